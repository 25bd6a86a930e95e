//! How many SMS segments a text takes, counted as Twilio counts them: GSM-7 when every
//! character is in the GSM 03.38 alphabet (160 septets in one segment, 153 per segment of a
//! longer text; the extension characters take two), else UCS-2 (70 UTF-16 units in one
//! segment, 67 per segment), where one character outside GSM-7 makes the whole text UCS-2.

/// The GSM 03.38 basic character set.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each takes an escape septet and itself.
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// The encoding a text is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// `(encoding, segments)` of `text`; an empty text is one segment.
pub fn count(text: &str) -> (Encoding, u32) {
    let mut septets = 0usize;
    for c in text.chars() {
        if GSM_BASIC.contains(c) {
            septets += 1;
        } else if GSM_EXTENDED.contains(c) {
            septets += 2;
        } else {
            let units = text.encode_utf16().count();
            return (Encoding::Ucs2, parts(units, 70, 67));
        }
    }
    (Encoding::Gsm7, parts(septets, 160, 153))
}

fn parts(units: usize, single: usize, each: usize) -> u32 {
    let n = if units <= single {
        1
    } else {
        units.div_ceil(each)
    };
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_fits_160_then_153_per_segment() {
        assert_eq!(count(""), (Encoding::Gsm7, 1));
        assert_eq!(count(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(count(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(count(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(count(&"a".repeat(307)), (Encoding::Gsm7, 3));
        assert_eq!(count("Grüße, Δ & @ £5"), (Encoding::Gsm7, 1));
    }

    #[test]
    fn extension_characters_take_two_septets() {
        assert_eq!(count(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(count(&"€".repeat(81)), (Encoding::Gsm7, 2));
        assert_eq!(count(&format!("{}[", "a".repeat(159))), (Encoding::Gsm7, 2));
    }

    #[test]
    fn one_character_outside_gsm7_makes_the_whole_text_ucs2() {
        assert_eq!(count(&"a".repeat(70)), (Encoding::Gsm7, 1));
        assert_eq!(count(&format!("{}’", "a".repeat(69))), (Encoding::Ucs2, 1));
        assert_eq!(count(&format!("{}’", "a".repeat(70))), (Encoding::Ucs2, 2));
        assert_eq!(count(&"é".repeat(10)), (Encoding::Gsm7, 1));
        assert_eq!(count(&"ê".repeat(134)), (Encoding::Ucs2, 2));
        assert_eq!(count(&"ê".repeat(135)), (Encoding::Ucs2, 3));
        // An emoji is two UTF-16 units.
        assert_eq!(count(&"😀".repeat(35)), (Encoding::Ucs2, 1));
        assert_eq!(count(&"😀".repeat(36)), (Encoding::Ucs2, 2));
    }
}
