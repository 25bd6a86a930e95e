//! Twilio's fallback URL (`POST /phone/voice/fallback`): what callers hear when the incoming
//! webhook itself failed. It must answer without the store, which may be what failed.

use reqwest::StatusCode;

use crate::webhooks::{SALES, call_params, counting_app};

const FALLBACK: &str = "/phone/voice/fallback";

fn failed_call(to: &str) -> Vec<(String, String)> {
    let mut params = call_params(to);
    params.push(("ErrorCode".into(), "11200".into()));
    params.push((
        "ErrorUrl".into(),
        "https://example.com/phone/voice/incoming".into(),
    ));
    params
}

#[tokio::test]
async fn the_fallback_url_answers_without_touching_the_store() {
    let (app, counting) = counting_app().await;
    counting.reset();

    // Never routed here: a voicemail that still takes the caller's message.
    let twiml = app.webhook(FALLBACK, &failed_call(SALES)).await;
    assert_eq!(
        twiml.verbs(),
        vec!["Say", "Record", "Hangup"],
        "{}",
        twiml.xml
    );
    assert!(twiml.texts("Say")[0].contains("leave a message"));
    assert_eq!(counting.calls(), 0);

    // Once this process has routed the number, its own fallback.
    app.call(SALES).await;
    counting.reset();
    let twiml = app.webhook(FALLBACK, &failed_call(SALES)).await;
    assert_eq!(
        twiml.texts("Say"),
        vec!["Sales is busy. Please leave a message."]
    );
    assert_eq!(counting.calls(), 0, "the fallback reads nothing");

    // Signed like every webhook.
    let (status, _) = app.webhook_with(FALLBACK, &failed_call(SALES), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(counting.calls(), 0);
}
