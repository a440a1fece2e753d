use super::*;
use crate::TokenUsage;

fn usd(s: &str) -> Usd {
    s.parse().unwrap()
}

#[test]
fn anthropic_each_token_kind() {
    let t = PriceTable::bundled();
    // claude-sonnet-4-5: in 3, out 15, read 0.30, write5m 3.75, write1h 6 ($/M)
    let one = |u: TokenUsage| t.price("claude-sonnet-4-5-20250929", &u, None).unwrap().usd;
    // (100k tokens each: below the 200k long-context threshold)
    assert_eq!(
        one(TokenUsage::from_exclusive(100_000, 0, 0, 0, 0)),
        usd("0.3")
    );
    assert_eq!(
        one(TokenUsage::from_exclusive(0, 100_000, 0, 0, 0)),
        usd("0.03")
    );
    assert_eq!(
        one(TokenUsage::from_exclusive(0, 0, 100_000, 0, 0)),
        usd("0.375")
    );
    assert_eq!(
        one(TokenUsage::from_exclusive(0, 0, 0, 100_000, 0)),
        usd("0.6")
    );
    assert_eq!(
        one(TokenUsage::from_exclusive(0, 0, 0, 0, 1_000_000)),
        usd("15")
    );
    // a real Claude Code call: 3 fresh, 14,164 cache read, 1,206 5m write, 286 out
    // = 3×3 + 14164×0.3 + 1206×3.75 + 286×15 = 9 + 4249.2 + 4522.5 + 4290 = 13070.7 µ$
    assert_eq!(
        one(TokenUsage::from_exclusive(3, 14_164, 1_206, 0, 286)),
        usd("0.0130707")
    );
    // opus 4.1 is 5x sonnet
    let opus = t
        .price(
            "claude-opus-4-1-20250805",
            &TokenUsage::from_exclusive(1000, 0, 0, 0, 1000),
            None,
        )
        .unwrap();
    assert_eq!(opus.usd, usd("0.09"));
}

#[test]
fn openai_cached_and_reasoning() {
    let t = PriceTable::bundled();
    // o4-mini: in 1.10, cached 0.275, out 4.40. OpenAI counts: prompt 10,000 of which
    // 4,096 cached; completion 2,000 of which 1,500 reasoning (billed as output).
    let u = TokenUsage::from_inclusive(10_000, 4_096, 0, 2_000, 1_500);
    assert_eq!(u.input, 5_904);
    let p = t.price("o4-mini-2025-04-16", &u, None).unwrap();
    // 5904×1.10 + 4096×0.275 + 2000×4.40 = 6494.4 + 1126.4 + 8800 = 16420.8 µ$
    assert_eq!(p.usd, usd("0.0164208"));
    assert_eq!(p.model_id, "o4-mini");
    // gpt-4.1-mini as reported by a provider-prefixed name
    let p = t
        .price(
            "openai/gpt-4.1-mini",
            &TokenUsage::from_inclusive(2_048, 1_024, 0, 100, 0),
            None,
        )
        .unwrap();
    // 1024×0.4 + 1024×0.1 + 100×1.6 = 409.6 + 102.4 + 160 = 672 µ$
    assert_eq!(p.usd, usd("0.000672"));
}

#[test]
fn google_and_long_context_tier() {
    let t = PriceTable::bundled();
    // gemini-2.5-pro ≤200k: in 1.25 out 10 read 0.125
    let small = TokenUsage::from_inclusive(100_000, 20_000, 0, 1_000, 0);
    let p = t.price("models/gemini-2.5-pro", &small, None).unwrap();
    // 80000×1.25 + 20000×0.125 + 1000×10 = 100000 + 2500 + 10000 µ$
    assert_eq!(p.usd, usd("0.1125"));
    assert_eq!(p.tier, None);
    // >200k: in 2.5 out 15 read 0.25, applied to the whole request
    let big = TokenUsage::from_inclusive(250_000, 50_000, 0, 1_000, 0);
    let p = t.price("gemini-2.5-pro", &big, None).unwrap();
    // 200000×2.5 + 50000×0.25 + 1000×15 = 500000 + 12500 + 15000 µ$
    assert_eq!(p.usd, usd("0.5275"));
    assert_eq!(p.tier, Some("long_context"));
    // exactly at the threshold stays in the base tier
    let edge = TokenUsage::from_inclusive(200_000, 0, 0, 0, 0);
    assert_eq!(t.price("gemini-2.5-pro", &edge, None).unwrap().tier, None);
    // Anthropic long context counts cached and written tokens too
    let cc = TokenUsage::from_exclusive(10, 190_000, 20_000, 0, 100);
    let p = t.price("claude-sonnet-4-5", &cc, None).unwrap();
    assert_eq!(p.tier, Some("long_context"));
    // 10×6 + 190000×0.6 + 20000×7.5 + 100×22.5 = 60 + 114000 + 150000 + 2250 µ$
    assert_eq!(p.usd, usd("0.26631"));
}

#[test]
fn dated_prices_pick_the_price_of_the_day() {
    let t = PriceTable::bundled();
    let u = TokenUsage::from_inclusive(1_000_000, 0, 0, 0, 0);
    let old: jiff::Timestamp = "2025-07-01T00:00:00Z".parse().unwrap();
    let new: jiff::Timestamp = "2025-10-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        t.price("deepseek-chat", &u, Some(old)).unwrap().usd,
        usd("0.27")
    );
    assert_eq!(
        t.price("deepseek-chat", &u, Some(new)).unwrap().usd,
        usd("0.28")
    );
    assert_eq!(
        t.price("deepseek/deepseek-chat", &u, None).unwrap().usd,
        usd("0.28")
    );
}

#[test]
fn aliases_and_unknown() {
    let t = PriceTable::bundled();
    let u = TokenUsage::from_exclusive(1_000_000, 0, 0, 0, 0);
    assert_eq!(
        t.price("opus", &u, None).unwrap().model_id,
        "claude-opus-5-5"
    );
    assert_eq!(
        t.price("sonnet", &u, None).unwrap().model_id,
        "claude-sonnet-5-5"
    );
    assert_eq!(
        t.price("us.anthropic.claude-3-5-haiku-20241022-v1:0", &u, None)
            .unwrap()
            .usd,
        usd("0.8")
    );
    assert!(t.price("my-local-llama", &u, None).is_none());
    let approx = t.price("gpt-4o-mini-search-preview", &u, None).unwrap();
    assert!(approx.approximate);
    assert_eq!(approx.model_id, "gpt-4o-mini");
}

#[test]
fn litellm_override_wins_and_falls_back() {
    let litellm = r#"{
      "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0},
      "claude-sonnet-4-5-20250929": {
        "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
        "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.5e-06,
        "cache_creation_input_token_cost_above_1hr": 3e-06,
        "input_cost_per_token_above_200k_tokens": 4e-06, "output_cost_per_token_above_200k_tokens": 8e-06,
        "litellm_provider": "anthropic", "mode": "chat"},
      "my-local-llama": {"input_cost_per_token": 2.5e-08, "output_cost_per_token": 5e-08, "litellm_provider": "ollama"},
      "dall-e-3": {"output_cost_per_image": 0.04}
    }"#;
    let over = PriceTable::from_litellm_json(litellm, None).unwrap();
    assert_eq!(over.len(), 2);
    let t = over.layered_over(PriceTable::bundled().clone());
    // every token kind at the override's prices
    let u = TokenUsage::from_exclusive(1000, 1000, 1000, 1000, 1000);
    // 1000×(1 + 0.1 + 1.5 + 3 + 2) µ$ = 7600 µ$ ... /1000 → 0.0076
    assert_eq!(
        t.price("claude-sonnet-4-5", &u, None).unwrap().usd,
        usd("0.0076")
    );
    assert_eq!(
        t.price(
            "my-local-llama",
            &TokenUsage::from_exclusive(1_000_000, 0, 0, 0, 1_000_000),
            None
        )
        .unwrap()
        .usd,
        usd("0.075")
    );
    // long-context tier from `_above_200k_tokens`
    let big = TokenUsage::from_exclusive(300_000, 0, 0, 0, 0);
    assert_eq!(
        t.price("claude-sonnet-4-5", &big, None).unwrap().usd,
        usd("1.2")
    );
    // a model only the bundled table has still resolves
    assert_eq!(
        t.price(
            "gpt-4o",
            &TokenUsage::from_inclusive(1_000_000, 0, 0, 0, 0),
            None
        )
        .unwrap()
        .usd,
        usd("2.5")
    );
}

#[test]
fn bad_price_files_are_typed_errors() {
    let e = PriceTable::from_litellm_json(
        r#"{"m": {"input_cost_per_token": "cheap", "output_cost_per_token": 1}}"#,
        None,
    )
    .unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::Pricing);
    assert!(e.to_string().contains("input_cost_per_token"), "{e}");
    let e = PriceTable::from_litellm_json("[1,2]", None).unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::Pricing);
    let e = PriceTable::from_litellm_json("{\n\"a\": ", None).unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
}
