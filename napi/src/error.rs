//! Core errors -> JS errors. A `PeerError` becomes an `Error` whose `message` is
//! `"<Name>: <text>"` and whose `code` is `<Name>` (`ErrorKind::as_str()`), so the JS layer
//! maps it to a `DOMException` (or `TypeError` / `RangeError`) in one table.

use polyrtc::peer::{ErrorKind, PeerError};

/// The error type of every entry point: `napi::Error` with a string status, which napi
/// puts in the thrown error's `code`.
pub type JsError = napi::Error<String>;
pub type JsResult<T> = napi::Result<T, String>;

pub fn from_peer(e: PeerError) -> JsError {
    let name = e.kind.as_str();
    napi::Error::new(name.to_owned(), format!("{}: {}", name, e.message))
}

pub fn new(kind: ErrorKind, text: impl AsRef<str>) -> JsError {
    from_peer(PeerError::new(kind, text.as_ref()))
}

/// An argument napi itself could not convert.
pub fn from_napi(e: napi::Error) -> JsError {
    new(ErrorKind::Type, e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_code_and_prefix() {
        let e = from_peer(PeerError::new(ErrorKind::InvalidState, "closed"));
        assert_eq!(e.status, "InvalidStateError");
        assert_eq!(e.reason, "InvalidStateError: closed");
        let e = new(ErrorKind::Type, "bad id");
        assert_eq!(e.status, "TypeError");
        assert_eq!(e.reason, "TypeError: bad id");
    }
}
