//! The request side: arbitrary bytes as a chat completion or embeddings body. Parsing never
//! panics; for a body that parses, every item points at a string, and writing a redaction
//! back keeps the body valid JSON.
#![no_main]
use airisk_gateway::openai;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = openai::parse_chat(data) {
        let roles = vec!["tool".to_string()];
        let items = openai::chat_items(&req.body, &roles, Some("[retrieved]"));
        let mut body = req.body.clone();
        for item in &items {
            assert!(openai::text_at(&body, &item.pointer).is_some(), "{}", item.pointer);
            assert!(openai::set_text(&mut body, &item.pointer, "[REDACTED:x]".into()));
        }
        let _ = openai::cap_max_tokens(&mut body, 16);
        assert!(serde_json::to_vec(&body).is_ok());
    }
    if let Ok((body, _, items)) = openai::parse_embeddings(data) {
        for item in &items {
            assert!(openai::text_at(&body, &item.pointer).is_some());
        }
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let mut v = v;
        let calls = openai::response_tool_calls(&v);
        let _ = openai::response_outputs(&v);
        let remove: Vec<(usize, usize)> = calls.iter().map(|c| (c.choice, c.index)).collect();
        for c in &calls {
            let _ = c.arguments_json();
        }
        openai::remove_tool_calls(&mut v, &remove, &[]);
    }
});
