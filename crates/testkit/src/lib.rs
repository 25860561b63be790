//! Test-only helpers shared by the integration tests of several crates (a dev-dependency only;
//! nothing here is linked into the product).
//!
//! Interoperability tests run a real external program against ours (the OpenAI Python SDK
//! against the gateway, compliance-trestle on our OSCAL, an OpenAPI validator on our API
//! document). A developer without that program gets a notice and a skipped test; CI, where
//! `scripts/test` installs it and sets the `AIRISK_REQUIRE_…` variable, gets a failure instead,
//! so it can never skip one silently.

/// The program named by the environment variable `var`, or `None` (with a notice on stderr)
/// when it is unset or empty, in which case the caller skips its test. Panics instead when
/// `require_var` is `1`.
pub fn external_program(var: &str, require_var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(program) if !program.is_empty() => Some(program),
        _ if std::env::var(require_var).as_deref() == Ok("1") => {
            panic!("{require_var}=1 but {var} is not set (it should name {what})")
        }
        _ => {
            eprintln!("skipped: set {var} to {what}");
            None
        }
    }
}

/// The Python of the interoperability tests (`AIRISK_TEST_PYTHON`, required in CI by
/// `AIRISK_REQUIRE_PYTHON=1`); `packages` says what it must have installed.
pub fn python(packages: &str) -> Option<String> {
    external_program(
        "AIRISK_TEST_PYTHON",
        "AIRISK_REQUIRE_PYTHON",
        &format!("a Python with {packages} installed"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_variable_names_the_program_and_an_unset_one_skips() {
        // Variable names of our own, so the real ones of a CI run are not touched.
        std::env::set_var("AIRISK_TESTKIT_PROGRAM", "/usr/bin/true");
        assert_eq!(
            external_program("AIRISK_TESTKIT_PROGRAM", "AIRISK_TESTKIT_REQUIRE", "x"),
            Some("/usr/bin/true".to_string())
        );
        assert_eq!(
            external_program("AIRISK_TESTKIT_UNSET", "AIRISK_TESTKIT_REQUIRE", "x"),
            None
        );
        std::env::set_var("AIRISK_TESTKIT_EMPTY", "");
        assert_eq!(
            external_program("AIRISK_TESTKIT_EMPTY", "AIRISK_TESTKIT_REQUIRE", "x"),
            None
        );
    }

    #[test]
    #[should_panic(expected = "AIRISK_TESTKIT_REQUIRED=1 but AIRISK_TESTKIT_MISSING is not set")]
    fn a_required_program_that_is_missing_fails() {
        std::env::set_var("AIRISK_TESTKIT_REQUIRED", "1");
        external_program("AIRISK_TESTKIT_MISSING", "AIRISK_TESTKIT_REQUIRED", "x");
    }
}
