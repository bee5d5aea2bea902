//! multipart/form-data bodies, written by hand for one reason: file names. reqwest sends a
//! non-ASCII name only as `filename*=utf-8''…`, which actix-web's `get_filename()` (what
//! oxen-server reads) ignores, so such files would be dropped. We send `filename="…"` with the
//! UTF-8 bytes as they are and `\` and `"` escaped, which actix parses back exactly.

use bytes::{Bytes, BytesMut};

/// One part: a text field or a file.
#[derive(Debug, Clone)]
pub(crate) enum Field {
    Text {
        name: &'static str,
        value: String,
    },
    File {
        name: &'static str,
        filename: String,
        content_type: &'static str,
        bytes: Bytes,
    },
}

#[derive(Debug)]
pub(crate) struct Multipart {
    boundary: String,
    chunks: Vec<Bytes>,
    len: u64,
}

fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl Multipart {
    pub(crate) fn new(fields: Vec<Field>) -> Multipart {
        let boundary = format!("oxdrop-{}", uuid::Uuid::new_v4().simple());
        let mut chunks = Vec::with_capacity(fields.len() * 3 + 1);
        for field in fields {
            let mut head = BytesMut::new();
            head.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match field {
                Field::Text { name, value } => {
                    head.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name={}\r\n\r\n",
                            quote(name)
                        )
                        .as_bytes(),
                    );
                    chunks.push(head.freeze());
                    chunks.push(Bytes::from(value));
                }
                Field::File {
                    name,
                    filename,
                    content_type,
                    bytes,
                } => {
                    head.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name={}; filename={}\r\nContent-Type: {content_type}\r\n\r\n",
                            quote(name),
                            quote(&filename)
                        )
                        .as_bytes(),
                    );
                    chunks.push(head.freeze());
                    chunks.push(bytes);
                }
            }
            chunks.push(Bytes::from_static(b"\r\n"));
        }
        chunks.push(Bytes::from(format!("--{boundary}--\r\n")));
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        Multipart {
            boundary,
            chunks,
            len,
        }
    }

    pub(crate) fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The body as a stream of the pieces (file bytes are not copied).
    pub(crate) fn into_body(self) -> reqwest::Body {
        let chunks = self.chunks.into_iter().map(Ok::<_, std::io::Error>);
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
    }

    #[cfg(test)]
    fn to_vec(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_raw_utf8_with_quotes_escaped() {
        let m = Multipart::new(vec![
            Field::Text {
                name: "message",
                value: "hi".into(),
            },
            Field::File {
                name: "file[]",
                filename: "ünï/say \"hi\"\\.txt".into(),
                content_type: "application/octet-stream",
                bytes: Bytes::from_static(b"DATA"),
            },
        ]);
        let text = String::from_utf8(m.to_vec()).unwrap();
        assert!(text.contains("Content-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n"));
        assert!(
            text.contains("filename=\"ünï/say \\\"hi\\\"\\\\.txt\"\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\n\r\nDATA\r\n"));
        assert!(text.ends_with("--\r\n"));
        assert_eq!(m.len(), text.len() as u64);
        assert!(
            m.content_type()
                .starts_with("multipart/form-data; boundary=oxdrop-")
        );
    }
}
