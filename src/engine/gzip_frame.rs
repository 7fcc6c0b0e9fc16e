//! The gzip container (RFC 1952) around a raw deflate stream.
//!
//! We read the header and check the trailer ourselves, rather than letting
//! zlib-rs do it, for one reason: speed. zlib-rs computes the CRC-32 with a
//! portable algorithm; crc32fast picks the CPU's carry-less multiply
//! (PCLMULQDQ, ARMv8 CRC) at run time, which makes a whole gzip download
//! 10-25% faster. The deflate data in between is inflated raw.

/// Length of the trailer: CRC-32 and size of the decoded member, both LE.
pub const TRAILER_LEN: usize = 8;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

/// The length of the gzip header at the start of `buf`; `Ok(None)` when
/// `buf` ends before the header does.
pub fn header_len(buf: &[u8]) -> Result<Option<usize>, String> {
    if buf.len() >= 2 && buf[..2] != [0x1f, 0x8b] {
        return Err("not a gzip stream (incorrect header check)".into());
    }
    if buf.len() < 10 {
        return Ok(None);
    }
    if buf[2] != 8 {
        return Err(format!("unknown gzip compression method {}", buf[2]));
    }
    let flags = buf[3];
    if flags & RESERVED != 0 {
        return Err("unknown gzip header flags set".into());
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let Some(len) = buf.get(at..at + 2) else {
            return Ok(None);
        };
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            // A zero-terminated string (file name, comment).
            match buf
                .get(at..)
                .and_then(|rest| rest.iter().position(|&b| b == 0))
            {
                Some(nul) => at += nul + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & FHCRC != 0 {
        // A CRC-16 of the header; like most gunzips we skip it (the
        // trailer's CRC-32 covers the data that matters).
        at += 2;
    }
    Ok((at <= buf.len()).then_some(at))
}

/// Checks a member's trailer against the CRC-32 and length of what it
/// decoded to.
pub fn check_trailer(trailer: &[u8], crc: u32, decoded_len: u64) -> Result<(), String> {
    let word = |at: usize| {
        trailer
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if word(0) != Some(crc) {
        return Err("incorrect data check (gzip CRC-32 mismatch)".into());
    }
    // ISIZE is the length modulo 2^32: truncation is the point.
    if word(4) != Some(decoded_len as u32) {
        return Err("incorrect length check (gzip size mismatch)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_header_is_ten_bytes() {
        let h = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xaa];
        assert_eq!(header_len(&h), Ok(Some(10)));
        assert_eq!(header_len(&h[..9]), Ok(None));
        assert_eq!(header_len(&h[..1]), Ok(None));
    }

    #[test]
    fn optional_fields_are_skipped_and_may_be_split() {
        // FEXTRA (3 bytes), FNAME "a.img", FCOMMENT "", FHCRC.
        let mut h = vec![
            0x1f,
            0x8b,
            8,
            FEXTRA | FNAME | FCOMMENT | FHCRC,
            0,
            0,
            0,
            0,
            0,
            3,
        ];
        h.extend([3, 0, 1, 2, 3]);
        h.extend(b"a.img\0");
        h.extend(b"\0");
        h.extend([0x12, 0x34]);
        let full = h.len();
        h.extend([0xde, 0xad]); // deflate data follows
        assert_eq!(header_len(&h), Ok(Some(full)));
        for cut in 0..full {
            assert_eq!(header_len(&h[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn bad_headers_are_errors() {
        assert!(header_len(b"PK\x03\x04").is_err());
        assert!(header_len(&[0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 3]).is_err());
        assert!(header_len(&[0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0, 0, 3]).is_err());
    }

    #[test]
    fn trailer_checks_crc_and_length_mod_2_32() {
        let crc = crc32fast::hash(b"abc");
        let mut t = crc.to_le_bytes().to_vec();
        t.extend(3u32.to_le_bytes());
        assert_eq!(check_trailer(&t, crc, 3), Ok(()));
        assert_eq!(check_trailer(&t, crc, 3 + (1 << 32)), Ok(()));
        assert!(check_trailer(&t, crc ^ 1, 3).is_err());
        assert!(check_trailer(&t, crc, 4).is_err());
    }
}
