//! Use-case tiering (M5): points and tiers for every answer combination, the EU AI Act
//! floors, and answers that contradict the system's recorded facts.

mod common;

use airisk_model::system::{
    AnnexIiiArea, DataSensitivity, DataSource, ModelType, SideEffect, Tool,
};
use airisk_model::{
    AiSystem, Classification, EuAiActClass, EuAiActClassification, Exposure, Level, ObjectKind,
};
use common::*;
use proptest::prelude::*;

const CLASSES: [EuAiActClass; 4] = [
    EuAiActClass::Prohibited,
    EuAiActClass::HighRisk,
    EuAiActClass::Transparency,
    EuAiActClass::Minimal,
];

/// Points written out from M5: consequential decisions, tools/actions and regulated
/// sector/children weigh 2, the others 1.
fn expected_points(c: &Classification) -> u32 {
    u32::from(c.external_users)
        + u32::from(c.personal_or_regulated_data)
        + 2 * u32::from(c.consequential_decisions)
        + 2 * u32::from(c.tools_or_actions)
        + 2 * u32::from(c.regulated_sector_or_children)
        + u32::from(c.third_party_models)
}

fn expected_tier(points: u32) -> Level {
    match points {
        0 | 1 => Level::Low,
        2 | 3 => Level::Medium,
        4..=6 => Level::High,
        _ => Level::Critical,
    }
}

fn eu(class: EuAiActClass) -> EuAiActClassification {
    let high = class == EuAiActClass::HighRisk;
    EuAiActClassification {
        class,
        annex_iii_area: high.then_some(AnnexIiiArea::EssentialServices),
        annex_i_legislation: None,
        reason: "assessed by legal".into(),
    }
}

fn system_fields(system: AiSystem) -> Vec<String> {
    let mut reg = base_register();
    let id = system.id.clone();
    add_system(&mut reg, system);
    fields_of(&reg.validate(), ObjectKind::System, &id)
}

#[test]
fn all_64_answer_combinations() {
    let mut seen_tiers = std::collections::BTreeSet::new();
    for bits in 0u8..64 {
        let c = classification_from_bits(bits);
        let points = expected_points(&c);
        assert_eq!(c.points(), points, "answers {c:?}");
        assert_eq!(c.tier(), expected_tier(points), "answers {c:?}");
        seen_tiers.insert(c.tier());
    }
    assert_eq!(seen_tiers.len(), 4, "every tier is reachable");
}

#[test]
fn tier_table_examples() {
    let c = |bits| classification_from_bits(bits);
    assert_eq!(c(0).points(), 0);
    assert_eq!(c(0).tier(), Level::Low);
    // Third-party model only: 1 point, low.
    assert_eq!(c(0b100000).tier(), Level::Low);
    // External users + personal data: 2 points, medium.
    assert_eq!(c(0b000011).points(), 2);
    assert_eq!(c(0b000011).tier(), Level::Medium);
    // Consequential decisions alone: 2 points, medium; plus personal data: 3, medium.
    assert_eq!(c(0b000100).tier(), Level::Medium);
    assert_eq!(c(0b000110).tier(), Level::Medium);
    // Consequential decisions + tools: 4 points, high.
    assert_eq!(c(0b001100).points(), 4);
    assert_eq!(c(0b001100).tier(), Level::High);
    // All three double-weighted answers: 6 points, still high.
    assert_eq!(c(0b011100).points(), 6);
    assert_eq!(c(0b011100).tier(), Level::High);
    // Plus one single: 7, critical.
    assert_eq!(c(0b011101).tier(), Level::Critical);
    // Everything: 9, critical.
    assert_eq!(c(0b111111).points(), 9);
    assert_eq!(c(0b111111).tier(), Level::Critical);
}

#[test]
fn adding_a_yes_never_lowers_the_tier_exhaustive() {
    for bits in 0u8..64 {
        for flag in 0..6 {
            let more = bits | (1 << flag);
            let (a, b) = (
                classification_from_bits(bits),
                classification_from_bits(more),
            );
            assert!(b.points() >= a.points());
            assert!(b.tier() >= a.tier(), "{a:?} -> {b:?}");
        }
    }
}

#[test]
fn eu_ai_act_floors_for_every_combination() {
    for bits in 0u8..64 {
        let answers = classification_from_bits(bits);
        let mut s = system("S");
        s.classification = Some(answers);
        assert_eq!(s.tier(), Some(answers.tier()), "no EU class, no floor");
        for class in CLASSES {
            s.eu_ai_act = Some(eu(class));
            let expected = match class {
                EuAiActClass::Prohibited => Level::Critical,
                EuAiActClass::HighRisk => answers.tier().max(Level::High),
                _ => answers.tier(),
            };
            assert_eq!(s.tier(), Some(expected), "{class:?} with {answers:?}");
        }
    }
}

#[test]
fn no_answers_means_no_tier_even_with_an_eu_class() {
    let mut s = system("S");
    assert_eq!(s.tier(), None);
    s.eu_ai_act = Some(eu(EuAiActClass::Prohibited));
    assert_eq!(s.tier(), None);
}

#[test]
fn external_exposure_needs_external_users_yes() {
    for exposure in [Exposure::Internal, Exposure::External, Exposure::Public] {
        for answer in [false, true] {
            let mut s = system("SYS-2");
            s.exposure = exposure;
            let mut c = classification_from_bits(0);
            c.external_users = answer;
            s.classification = Some(c);
            let fields = system_fields(s);
            let expected = exposure != Exposure::Internal && !answer;
            assert_eq!(
                fields.contains(&"classification.external_users".to_string()),
                expected,
                "{exposure:?} answered {answer}: {fields:?}"
            );
            assert_eq!(fields.len(), usize::from(expected), "{fields:?}");
        }
    }
}

#[test]
fn acting_tools_need_tools_yes() {
    let tool = |name: &str, effects: Vec<SideEffect>| Tool {
        name: name.into(),
        permissions: vec![],
        side_effects: effects,
        description: String::new(),
    };
    let mut s = system("SYS-2");
    s.classification = Some(classification_from_bits(0));
    s.tools = vec![tool("lookup", vec![SideEffect::None])];
    assert!(
        system_fields(s.clone()).is_empty(),
        "a tool without effects"
    );
    s.tools.push(tool(
        "refund",
        vec![SideEffect::None, SideEffect::Financial],
    ));
    let mut reg = base_register();
    add_system(&mut reg, s.clone());
    let issues = reg.validate();
    let issue = issue_at(
        &issues,
        ObjectKind::System,
        "SYS-2",
        "classification.tools_or_actions",
    );
    assert!(issue.message.contains("refund"), "{}", issue.message);
    s.classification = Some(classification_from_bits(0b001000));
    assert!(system_fields(s.clone()).is_empty());
    // A tool must list its effects.
    s.tools.push(tool("mystery", vec![]));
    assert_eq!(system_fields(s), vec!["tools[2].side_effects"]);
}

#[test]
fn bought_models_need_third_party_yes() {
    for (model_type, flagged) in [
        (ModelType::Proprietary, false),
        (ModelType::FineTuned, true),
        (ModelType::ThirdPartyFoundation, true),
    ] {
        let mut s = system("SYS-2");
        s.model_type = model_type;
        s.classification = Some(classification_from_bits(0));
        assert_eq!(
            system_fields(s.clone()),
            if flagged {
                vec!["classification.third_party_models".to_string()]
            } else {
                vec![]
            },
            "{model_type:?}"
        );
        s.classification = Some(classification_from_bits(0b100000));
        assert!(system_fields(s).is_empty());
    }
}

#[test]
fn personal_data_sources_need_personal_data_yes() {
    for (sensitivity, flagged) in [
        (DataSensitivity::Public, false),
        (DataSensitivity::Internal, false),
        (DataSensitivity::Confidential, false),
        (DataSensitivity::Personal, true),
        (DataSensitivity::SpecialCategory, true),
    ] {
        let mut s = system("SYS-2");
        s.data_sources = vec![DataSource {
            name: "crm".into(),
            sensitivity,
            description: String::new(),
        }];
        s.classification = Some(classification_from_bits(0));
        assert_eq!(
            system_fields(s.clone()),
            if flagged {
                vec!["classification.personal_or_regulated_data".to_string()]
            } else {
                vec![]
            },
            "{sensitivity:?}"
        );
        s.classification = Some(classification_from_bits(0b000010));
        assert!(system_fields(s).is_empty());
    }
}

#[test]
fn facts_are_not_checked_without_answers() {
    let mut s = system("SYS-2");
    s.exposure = Exposure::Public;
    s.model_type = ModelType::ThirdPartyFoundation;
    assert!(system_fields(s).is_empty());
}

#[test]
fn eu_ai_act_record_rules() {
    let mut s = system("SYS-2");
    let mut record = eu(EuAiActClass::HighRisk);
    record.reason = " ".into();
    s.eu_ai_act = Some(record.clone());
    assert_eq!(system_fields(s.clone()), vec!["eu_ai_act.reason"]);

    record.reason = "Annex III 4(a)".into();
    record.annex_iii_area = None;
    s.eu_ai_act = Some(record.clone());
    assert_eq!(system_fields(s.clone()), vec!["eu_ai_act.annex_iii_area"]);

    // A safety component under Annex I legislation is a basis too.
    record.annex_i_legislation = Some("Machinery Regulation (EU) 2023/1230".into());
    s.eu_ai_act = Some(record.clone());
    assert!(system_fields(s.clone()).is_empty());

    for class in [
        EuAiActClass::Prohibited,
        EuAiActClass::Transparency,
        EuAiActClass::Minimal,
    ] {
        let mut r = eu(class);
        assert!(system_fields(AiSystem {
            eu_ai_act: Some(r.clone()),
            ..s.clone()
        })
        .is_empty());
        r.annex_iii_area = Some(AnnexIiiArea::Biometrics);
        assert_eq!(
            system_fields(AiSystem {
                eu_ai_act: Some(r),
                ..s.clone()
            }),
            vec!["eu_ai_act.annex_iii_area"],
            "{class:?}"
        );
    }
}

fn any_classification() -> impl Strategy<Value = Classification> {
    (0u8..64).prop_map(classification_from_bits)
}

proptest! {
    /// Adding any yes answer never lowers the tier.
    #[test]
    fn more_yes_never_lowers_the_tier(bits in 0u8..64, extra in 0u8..64) {
        let (a, b) = (classification_from_bits(bits), classification_from_bits(bits | extra));
        prop_assert!(b.points() >= a.points());
        prop_assert!(b.tier() >= a.tier());
    }

    /// The tier of a system is the answers' tier raised to its EU AI Act floor; the
    /// floor never lowers it.
    #[test]
    fn eu_floor_never_lowers(c in any_classification(), class in prop::sample::select(CLASSES.to_vec())) {
        let mut s = system("S");
        s.classification = Some(c);
        let without = s.tier().unwrap();
        s.eu_ai_act = Some(eu(class));
        let with = s.tier().unwrap();
        prop_assert!(with >= without);
        if class == EuAiActClass::HighRisk { prop_assert!(with >= Level::High); }
        if class == EuAiActClass::Prohibited { prop_assert_eq!(with, Level::Critical); }
        if matches!(class, EuAiActClass::Transparency | EuAiActClass::Minimal) {
            prop_assert_eq!(with, without);
        }
    }

    /// Answers that agree with the facts are never reported; each contradicted answer is
    /// reported at its own field.
    #[test]
    fn fact_checks(
        c in any_classification(),
        exposure in prop::sample::select(vec![Exposure::Internal, Exposure::External, Exposure::Public]),
        acting_tool in any::<bool>(),
        bought in any::<bool>(),
        personal in any::<bool>(),
    ) {
        let mut s = system("SYS-2");
        s.classification = Some(c);
        s.exposure = exposure;
        if acting_tool {
            s.tools = vec![Tool { name: "t".into(), permissions: vec![], side_effects: vec![SideEffect::WritesData], description: String::new() }];
        }
        if bought {
            s.model_type = ModelType::FineTuned;
        }
        if personal {
            s.data_sources = vec![DataSource { name: "d".into(), sensitivity: DataSensitivity::Personal, description: String::new() }];
        }
        let fields = system_fields(s);
        let mut expected = Vec::new();
        if exposure != Exposure::Internal && !c.external_users { expected.push("classification.external_users"); }
        if acting_tool && !c.tools_or_actions { expected.push("classification.tools_or_actions"); }
        if bought && !c.third_party_models { expected.push("classification.third_party_models"); }
        if personal && !c.personal_or_regulated_data { expected.push("classification.personal_or_regulated_data"); }
        let mut fields = fields;
        fields.sort();
        expected.sort();
        prop_assert_eq!(fields, expected);
    }
}
