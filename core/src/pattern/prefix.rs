//! A bracketed group that opens the message (session 25, round 29).
//!
//! Many logs open every message with a bracketed group of metadata that the
//! header leaves in the message: a syslog message id with its facility and
//! level (`[ID 107833 kern.warning]`), a thread (`[main]`), a logger or
//! category. Its words are the same in lines of every template, so they
//! say nothing about whether two lines share one: counted as equal
//! constant words (step 3, and two patterns meeting), they let short
//! messages of different templates merge (`[ID <*> kern.warning] WARNING:
//! <*> (<*>):` took `[ID <*> kern.warning] mptsas_handle_event_sync:
//! IOCStatus=<*>, IOCLogInfo=<*>`, then every message of six tokens). They
//! must still be equal; they only do not count as evidence.

use std::ops::Range;

/// The positions of a bracketed group that opens `tokens` (its first
/// token opens with `[`, one of its first four closes with `]` or `]:`)
/// and is followed by more of the message; the group may follow a
/// program's tag that ends with `:` (`scsi: [ID <*> kern.notice]`, when
/// the header left it). Empty when there is none.
pub(super) fn opening_group<T: AsRef<str>>(tokens: &[T]) -> Range<usize> {
    let start = match tokens.first().map(AsRef::as_ref) {
        Some(t) if t.starts_with('[') => 0,
        Some(t) if t.ends_with(':') && !t.starts_with('[') => 1,
        _ => return 0..0,
    };
    if !tokens
        .get(start)
        .is_some_and(|t| t.as_ref().starts_with('['))
    {
        return 0..0;
    }
    let last = tokens.len().saturating_sub(1).min(start + 4);
    (start..last)
        .find(|&j| {
            let t = tokens[j].as_ref();
            t.ends_with(']') || t.ends_with("]:")
        })
        .map_or(0..0, |j| start..j + 1)
}

#[cfg(test)]
mod tests {
    use super::opening_group;
    use crate::pattern::{Miner, MinerConfig};

    #[test]
    fn the_group_is_bracketed_opens_the_message_and_is_followed() {
        let group = |s: &str| opening_group(&s.split(' ').collect::<Vec<_>>());
        assert_eq!(group("[ID <*> kern.warning] WARNING: <*> (<*>):"), 0..3);
        assert_eq!(group("[main] Loaded <*>"), 0..1);
        assert_eq!(group("[MSGID: <*>] [a.c:<*>:f] 0-x: done"), 0..2);
        // After a program's tag.
        assert_eq!(group("scsi: [ID <*> kern.notice] Sense Key: <*>"), 1..4);
        // Not at the start, not closed soon, or nothing after it.
        assert_eq!(group("Loaded [main] <*>"), 0..0);
        assert_eq!(group("Loaded: now [main] <*>"), 0..0);
        assert_eq!(group("[a b c d e f] g"), 0..0);
        assert_eq!(group("[ID <*> kern.info]"), 0..0);
    }

    /// Two short messages of different templates behind one syslog message
    /// id group: only the group's words are equal.
    #[test]
    fn an_opening_group_is_no_evidence_that_two_messages_share_a_template() {
        let mut m = Miner::new("svc", MinerConfig::default());
        let a = m
            .mine("[ID 107833 kern.warning] WARNING: /pci@0,0/pci8086,3c08@3/pci1000,3020@0 (mpt_sas0):")
            .id;
        let b = m
            .mine("[ID 243001 kern.warning] mptsas_handle_event_sync: IOCStatus=0x8000, IOCLogInfo=0x31120389")
            .id;
        assert_ne!(m.resolve(a), m.resolve(b));
        let c = m
            .mine("[ID 227167 kern.warning] Killing user processes.")
            .id;
        assert_eq!(m.len(), 3);
        assert_ne!(m.resolve(c), m.resolve(a));
        // Lines of one template still group behind it.
        let d = m
            .mine("[ID 107833 kern.warning] WARNING: /pci@0,0/pci15ad,1976@10 (sd5):")
            .id;
        assert_eq!(m.resolve(d), m.resolve(a));
        let e = m
            .mine("[ID 243001 kern.warning] mptsas_handle_event_sync: IOCStatus=0x8001, IOCLogInfo=0x31120777")
            .id;
        assert_eq!(m.resolve(e), m.resolve(b));
        // The same behind a program's tag.
        let mut m = Miner::new("svc", MinerConfig::default());
        let a = m
            .mine("scsi: [ID 107833 kern.warning] WARNING: /pci@0,0/pci8086,3c08@3 (mpt_sas0):")
            .id;
        let b = m
            .mine("scsi: [ID 243001 kern.warning] mptsas_handle_event_sync: IOCStatus=0x8000, IOCLogInfo=0x3112")
            .id;
        assert_ne!(m.resolve(a), m.resolve(b));
    }
}
