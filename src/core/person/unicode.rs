//! Naming the characters that have no business in an identifier, so a rejection says exactly
//! which character was found and what it imitates (`'а' (U+0430 CYRILLIC SMALL LETTER A,
//! looks like 'a')`). A Cyrillic `а` in a username is the classic spoof: the message must make
//! it visible. This is a small table of the usual suspects, not a Unicode database: any other
//! character is still named by its code point. It must not decide what is allowed; callers do.

/// Characters commonly used to imitate ASCII, with their Unicode names and what they look like.
const LOOKALIKES: &[(char, &str, &str)] = &[
    // Cyrillic lower case
    ('\u{0430}', "CYRILLIC SMALL LETTER A", "a"),
    ('\u{0435}', "CYRILLIC SMALL LETTER IE", "e"),
    ('\u{043E}', "CYRILLIC SMALL LETTER O", "o"),
    ('\u{0440}', "CYRILLIC SMALL LETTER ER", "p"),
    ('\u{0441}', "CYRILLIC SMALL LETTER ES", "c"),
    ('\u{0443}', "CYRILLIC SMALL LETTER U", "y"),
    ('\u{0445}', "CYRILLIC SMALL LETTER HA", "x"),
    ('\u{0455}', "CYRILLIC SMALL LETTER DZE", "s"),
    (
        '\u{0456}',
        "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I",
        "i",
    ),
    ('\u{0458}', "CYRILLIC SMALL LETTER JE", "j"),
    ('\u{0501}', "CYRILLIC SMALL LETTER KOMI DE", "d"),
    ('\u{04BB}', "CYRILLIC SMALL LETTER SHHA", "h"),
    ('\u{04CF}', "CYRILLIC SMALL LETTER PALOCHKA", "l"),
    ('\u{051B}', "CYRILLIC SMALL LETTER QA", "q"),
    ('\u{051D}', "CYRILLIC SMALL LETTER WE", "w"),
    // Cyrillic upper case
    ('\u{0410}', "CYRILLIC CAPITAL LETTER A", "A"),
    ('\u{0412}', "CYRILLIC CAPITAL LETTER VE", "B"),
    ('\u{0415}', "CYRILLIC CAPITAL LETTER IE", "E"),
    ('\u{041A}', "CYRILLIC CAPITAL LETTER KA", "K"),
    ('\u{041C}', "CYRILLIC CAPITAL LETTER EM", "M"),
    ('\u{041D}', "CYRILLIC CAPITAL LETTER EN", "H"),
    ('\u{041E}', "CYRILLIC CAPITAL LETTER O", "O"),
    ('\u{0420}', "CYRILLIC CAPITAL LETTER ER", "P"),
    ('\u{0421}', "CYRILLIC CAPITAL LETTER ES", "C"),
    ('\u{0422}', "CYRILLIC CAPITAL LETTER TE", "T"),
    ('\u{0425}', "CYRILLIC CAPITAL LETTER HA", "X"),
    // Greek
    ('\u{03B1}', "GREEK SMALL LETTER ALPHA", "a"),
    ('\u{03B5}', "GREEK SMALL LETTER EPSILON", "e"),
    ('\u{03B9}', "GREEK SMALL LETTER IOTA", "i"),
    ('\u{03BA}', "GREEK SMALL LETTER KAPPA", "k"),
    ('\u{03BD}', "GREEK SMALL LETTER NU", "v"),
    ('\u{03BF}', "GREEK SMALL LETTER OMICRON", "o"),
    ('\u{03C1}', "GREEK SMALL LETTER RHO", "p"),
    ('\u{03C4}', "GREEK SMALL LETTER TAU", "t"),
    ('\u{03C5}', "GREEK SMALL LETTER UPSILON", "u"),
    ('\u{0391}', "GREEK CAPITAL LETTER ALPHA", "A"),
    ('\u{0392}', "GREEK CAPITAL LETTER BETA", "B"),
    ('\u{0395}', "GREEK CAPITAL LETTER EPSILON", "E"),
    ('\u{0397}', "GREEK CAPITAL LETTER ETA", "H"),
    ('\u{0399}', "GREEK CAPITAL LETTER IOTA", "I"),
    ('\u{039A}', "GREEK CAPITAL LETTER KAPPA", "K"),
    ('\u{039C}', "GREEK CAPITAL LETTER MU", "M"),
    ('\u{039D}', "GREEK CAPITAL LETTER NU", "N"),
    ('\u{039F}', "GREEK CAPITAL LETTER OMICRON", "O"),
    ('\u{03A1}', "GREEK CAPITAL LETTER RHO", "P"),
    ('\u{03A4}', "GREEK CAPITAL LETTER TAU", "T"),
    ('\u{03A7}', "GREEK CAPITAL LETTER CHI", "X"),
    // Latin oddities
    ('\u{0131}', "LATIN SMALL LETTER DOTLESS I", "i"),
    ('\u{0269}', "LATIN SMALL LETTER IOTA", "i"),
    ('\u{0261}', "LATIN SMALL LETTER SCRIPT G", "g"),
    ('\u{2113}', "SCRIPT SMALL L", "l"),
    // Invisible characters and punctuation look-alikes
    ('\u{00A0}', "NO-BREAK SPACE", " "),
    ('\u{00AD}', "SOFT HYPHEN", "nothing (invisible)"),
    ('\u{200B}', "ZERO WIDTH SPACE", "nothing (invisible)"),
    ('\u{200C}', "ZERO WIDTH NON-JOINER", "nothing (invisible)"),
    ('\u{200D}', "ZERO WIDTH JOINER", "nothing (invisible)"),
    ('\u{2060}', "WORD JOINER", "nothing (invisible)"),
    (
        '\u{FEFF}',
        "ZERO WIDTH NO-BREAK SPACE",
        "nothing (invisible)",
    ),
    ('\u{2010}', "HYPHEN", "-"),
    ('\u{2011}', "NON-BREAKING HYPHEN", "-"),
    ('\u{2012}', "FIGURE DASH", "-"),
    ('\u{2013}', "EN DASH", "-"),
    ('\u{2014}', "EM DASH", "-"),
    ('\u{2212}', "MINUS SIGN", "-"),
    ('\u{FF0E}', "FULLWIDTH FULL STOP", "."),
    ('\u{FF20}', "FULLWIDTH COMMERCIAL AT", "@"),
    ('\u{FF3F}', "FULLWIDTH LOW LINE", "_"),
];

/// Bidirectional controls: they reorder what is displayed (the "Trojan Source" trick).
const BIDI: &[(char, &str)] = &[
    ('\u{061C}', "ARABIC LETTER MARK"),
    ('\u{200E}', "LEFT-TO-RIGHT MARK"),
    ('\u{200F}', "RIGHT-TO-LEFT MARK"),
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
];

/// A description of `c` for an error message: the character, its code point, its name when
/// known and what it imitates, e.g. `'а' (U+0430 CYRILLIC SMALL LETTER A, looks like 'a')`.
/// Invisible and control characters are not printed raw (they would hide in the message).
pub fn describe(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    if let Some((_, name, like)) = LOOKALIKES.iter().find(|(ch, _, _)| *ch == c) {
        let shown = if is_invisible(c) {
            String::new()
        } else {
            format!("'{c}' ")
        };
        return if like.starts_with("nothing") {
            format!("{shown}({code} {name}, invisible)")
        } else {
            format!("{shown}({code} {name}, looks like '{like}')")
        };
    }
    if let Some((_, name)) = BIDI.iter().find(|(ch, _)| *ch == c) {
        return format!("({code} {name}, reorders displayed text)");
    }
    if let Some(fold) = fullwidth_ascii(c) {
        return format!("'{c}' ({code} FULLWIDTH FORM, looks like '{fold}')");
    }
    if c.is_control() {
        return format!("a control character ({code})");
    }
    if let Some(plain) = latin_base(c) {
        return format!("'{c}' ({code}, an accented letter; write '{plain}')");
    }
    format!("'{c}' ({code})")
}

/// True for characters that render as nothing or as plain space: never show them raw.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// True for characters that must never appear in any text matelot stores for a person
/// (names included): control characters, bidirectional controls and zero-width characters.
pub fn is_forbidden_anywhere(c: char) -> bool {
    c.is_control() || BIDI.iter().any(|(ch, _)| *ch == c) || (is_invisible(c) && c != '\u{00A0}')
}

/// The ASCII character a fullwidth form stands for (`Ａ` -> `A`).
fn fullwidth_ascii(c: char) -> Option<char> {
    let u = c as u32;
    if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFF01 + 0x21)
    } else {
        None
    }
}

/// The unaccented base of common accented Latin letters (`é` -> `e`), for a suggestion.
pub fn latin_base(c: char) -> Option<char> {
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' => 'i',
        'ł' | 'ĺ' | 'ļ' | 'ľ' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ŝ' => 's',
        'ť' | 'ţ' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        _ => return None,
    };
    Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_named_with_their_code_point() {
        let cases = [
            (
                '\u{0430}',
                "'а' (U+0430 CYRILLIC SMALL LETTER A, looks like 'a')",
            ),
            (
                '\u{03BF}',
                "'ο' (U+03BF GREEK SMALL LETTER OMICRON, looks like 'o')",
            ),
            ('\u{200B}', "(U+200B ZERO WIDTH SPACE, invisible)"),
            (
                '\u{202E}',
                "(U+202E RIGHT-TO-LEFT OVERRIDE, reorders displayed text)",
            ),
            ('ａ', "'ａ' (U+FF41 FULLWIDTH FORM, looks like 'a')"),
            ('\u{7}', "a control character (U+0007)"),
            ('é', "'é' (U+00E9, an accented letter; write 'e')"),
            ('漢', "'漢' (U+6F22)"),
        ];
        for (c, want) in cases {
            assert_eq!(describe(c), want, "{c:?}");
        }
    }

    #[test]
    fn forbidden_characters() {
        for c in ['\n', '\0', '\u{202E}', '\u{200B}', '\u{FEFF}', '\t'] {
            assert!(is_forbidden_anywhere(c), "{c:?}");
        }
        for c in ['a', 'é', 'Ж', ' ', '\u{00A0}', '-'] {
            assert!(!is_forbidden_anywhere(c), "{c:?}");
        }
    }
}
