//! Fixed-size list items that are read lazily from the wire or given as a
//! slice by a sender: one type for both, so a parsed packet can be written
//! again and a built one compared with a parsed one.

use core::fmt;

/// A fixed-size item of an RTCP list (report block, NACK pair, FIR entry,
/// DLRR sub-block, SSRC).
pub trait WireItem: Copy {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Decodes from exactly [`WireItem::SIZE`] bytes.
    fn read(b: &[u8]) -> Self;
    /// Encodes into exactly [`WireItem::SIZE`] bytes.
    fn write(&self, out: &mut [u8]);
}

impl WireItem for u32 {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> u32 {
        crate::bytes::be32(b, 0)
    }
    fn write(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_be_bytes());
    }
}

/// A list of `T`: either undecoded bytes of a received packet (a multiple
/// of `T::SIZE`, checked when parsed) or a sender's slice.
#[derive(Clone, Copy)]
pub enum Items<'a, T: WireItem> {
    /// Encoded items from a received packet.
    Wire(&'a [u8]),
    /// Items given by the caller.
    Slice(&'a [T]),
}

impl<'a, T: WireItem> Items<'a, T> {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            Items::Wire(b) => b.len() / T::SIZE,
            Items::Slice(s) => s.len(),
        }
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<T> {
        match self {
            Items::Wire(b) => b.get(i * T::SIZE..(i + 1) * T::SIZE).map(T::read),
            Items::Slice(s) => s.get(i).copied(),
        }
    }

    /// The items in order.
    pub fn iter(&self) -> ItemsIter<'a, T> {
        ItemsIter {
            items: *self,
            next: 0,
        }
    }
}

impl<'a, T: WireItem> From<&'a [T]> for Items<'a, T> {
    fn from(s: &'a [T]) -> Items<'a, T> {
        Items::Slice(s)
    }
}

impl<T: WireItem> Default for Items<'_, T> {
    fn default() -> Self {
        Items::Slice(&[])
    }
}

impl<T: WireItem + PartialEq> PartialEq for Items<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: WireItem + Eq> Eq for Items<'_, T> {}

impl<T: WireItem + fmt::Debug> fmt::Debug for Items<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: WireItem> IntoIterator for Items<'a, T> {
    type Item = T;
    type IntoIter = ItemsIter<'a, T>;
    fn into_iter(self) -> ItemsIter<'a, T> {
        self.iter()
    }
}

/// Iterator over [`Items`].
#[derive(Clone)]
pub struct ItemsIter<'a, T: WireItem> {
    items: Items<'a, T>,
    next: usize,
}

impl<T: WireItem + fmt::Debug> fmt::Debug for ItemsIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemsIter")
            .field("items", &self.items)
            .field("next", &self.next)
            .finish()
    }
}

impl<T: WireItem> Iterator for ItemsIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        let item = self.items.get(self.next)?;
        self.next += 1;
        Some(item)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.items.len().saturating_sub(self.next);
        (n, Some(n))
    }
}

impl<T: WireItem> ExactSizeIterator for ItemsIter<'_, T> {}
