//! SCTP stream ids for data channels (RFC 8832 §6, RFC 8831 §6.5).

/// The largest usable stream id. 65535 is reserved (W3C `RTCDataChannelInit.id` must be
/// below 65535; SCTP stream counts are 16-bit, so ids run 0..=65534).
pub const MAX_STREAM_ID: u16 = 65534;

/// The most data channels one association can carry: one per stream id 0..=65534.
/// The allocator never tracks more ids than this.
pub const MAX_CHANNELS: usize = MAX_STREAM_ID as usize + 1;

/// RFC 8832 §6: "The DTLS client MUST use even stream identifiers, the DTLS server MUST use
/// odd stream identifiers." True when `id` has the parity our DTLS role uses.
pub fn stream_id_is_ours(id: u16, dtls_client: bool) -> bool {
    id.is_multiple_of(2) == dtls_client
}

/// Tracks which stream ids are in use (ours, the peer's, and negotiated ones) and hands out
/// the lowest free id of our parity.
///
/// The bound is the smaller of [`MAX_STREAM_ID`] and the negotiated stream count
/// (`set_stream_limit`, from the SCTP INIT's OS/MIS). A bitset of [`MAX_CHANNELS`] bits
/// (8 KiB) is allocated once; nothing grows with what the peer sends.
#[derive(Clone, Debug)]
pub struct StreamIdAllocator {
    dtls_client: bool,
    /// Ids `>= limit` are never handed out nor accepted.
    limit: u32,
    used: Vec<u64>,
    in_use: usize,
    /// Every id of our parity below this is in use: where `allocate` starts looking.
    hint: u32,
}

impl StreamIdAllocator {
    pub fn new(dtls_client: bool) -> StreamIdAllocator {
        StreamIdAllocator {
            dtls_client,
            limit: MAX_CHANNELS as u32,
            used: vec![0; MAX_CHANNELS.div_ceil(64)],
            in_use: 0,
            hint: if dtls_client { 0 } else { 1 },
        }
    }

    pub fn dtls_client(&self) -> bool {
        self.dtls_client
    }

    /// Restricts ids to `0..streams` (the negotiated number of streams, RFC 8831 §6.2), and
    /// never beyond [`MAX_STREAM_ID`]. Ids already in use stay in use.
    pub fn set_stream_limit(&mut self, streams: u16) {
        self.limit = u32::from(streams).min(MAX_CHANNELS as u32);
    }

    /// Number of ids in use.
    pub fn in_use(&self) -> usize {
        self.in_use
    }

    pub fn is_used(&self, id: u16) -> bool {
        let (word, bit) = Self::slot(id);
        self.used.get(word).is_some_and(|w| w & bit != 0)
    }

    /// The lowest free id of our parity, marked as used; `None` when exhausted.
    pub fn allocate(&mut self) -> Option<u16> {
        let mut id = self.hint;
        while id < self.limit {
            let id16 = u16::try_from(id).ok()?;
            if !self.is_used(id16) {
                self.mark(id16);
                self.hint = id + 2;
                return Some(id16);
            }
            id += 2;
        }
        self.hint = id;
        None
    }

    /// Marks a specific id as used (a negotiated channel, or one the peer opened). Returns
    /// false if it is out of range or already in use. Parity is not checked: negotiated
    /// channels may use any id; the caller checks the peer's parity with
    /// [`stream_id_is_ours`].
    pub fn reserve(&mut self, id: u16) -> bool {
        if u32::from(id) >= self.limit || self.is_used(id) {
            return false;
        }
        self.mark(id);
        true
    }

    /// Frees an id (after the stream reset completed). Freeing a free id does nothing.
    pub fn release(&mut self, id: u16) {
        let (word, bit) = Self::slot(id);
        if let Some(w) = self.used.get_mut(word) {
            if *w & bit != 0 {
                *w &= !bit;
                self.in_use -= 1;
                if stream_id_is_ours(id, self.dtls_client) {
                    self.hint = self.hint.min(u32::from(id));
                }
            }
        }
    }

    fn mark(&mut self, id: u16) {
        let (word, bit) = Self::slot(id);
        if let Some(w) = self.used.get_mut(word) {
            if *w & bit == 0 {
                *w |= bit;
                self.in_use += 1;
            }
        }
    }

    fn slot(id: u16) -> (usize, u64) {
        (usize::from(id / 64), 1u64 << (id % 64))
    }
}
