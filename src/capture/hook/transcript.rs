//! What an agent's transcript says that its hooks do not: Claude Code's hook payloads carry no
//! model (not even `SessionStart` with `--model`), but every assistant message of the transcript
//! named in `transcript_path` has the model that answered, and every line the CLI's version.
//!
//! Read at the end of a turn (`Stop`), from the end of the file only (the newest 256 KiB), so
//! the cost does not grow with the session.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const TAIL_BYTES: u64 = 256 << 10;

/// The model and CLI version a transcript names last: the newest assistant message's
/// `message.model` (not a `<synthetic>` one) and the newest line's `version`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TranscriptFacts {
    pub model: Option<String>,
    pub version: Option<String>,
}

pub fn facts(path: &Path) -> TranscriptFacts {
    let Ok(mut file) = std::fs::File::open(path) else {
        return TranscriptFacts::default();
    };
    let length = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    let start = length.saturating_sub(TAIL_BYTES);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return TranscriptFacts::default();
    }
    let mut bytes = Vec::new();
    if file.take(TAIL_BYTES).read_to_end(&mut bytes).is_err() {
        return TranscriptFacts::default();
    }
    from_text(&String::from_utf8_lossy(&bytes))
}

/// [`facts`] over transcript text (a partial first line is skipped as unparsable).
pub fn from_text(text: &str) -> TranscriptFacts {
    let mut facts = TranscriptFacts::default();
    for line in text.lines().rev() {
        if facts.model.is_some() && facts.version.is_some() {
            break;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if facts.version.is_none()
            && let Some(version) = value["version"].as_str().filter(|v| !v.is_empty())
        {
            facts.version = Some(version.to_owned());
        }
        if facts.model.is_none()
            && value["type"] == "assistant"
            && let Some(model) = value["message"]["model"]
                .as_str()
                .filter(|model| !model.is_empty() && !model.starts_with('<'))
        {
            facts.model = Some(model.to_owned());
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_real_model_and_version() {
        let text = r#"{"type":"user","message":{"role":"user","content":"hi"},"version":"2.1.300"}
{"type":"assistant","message":{"model":"claude-opus-4-5-20251101","content":[]},"version":"2.1.332"}
{"type":"assistant","message":{"model":"<synthetic>","content":[]},"version":"2.1.332"}
{"type":"system","subtype":"stop_hook_summary"}
not json"#;
        assert_eq!(
            from_text(text),
            TranscriptFacts {
                model: Some("claude-opus-4-5-20251101".to_owned()),
                version: Some("2.1.332".to_owned()),
            }
        );
        assert_eq!(from_text(""), TranscriptFacts::default());
        assert_eq!(
            facts(Path::new("/nonexistent/transcript.jsonl")),
            TranscriptFacts::default()
        );
    }
}
