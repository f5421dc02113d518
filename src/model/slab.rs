//! A generational slab: in-flight calls and server jobs live here.
//!
//! Slots are reused after removal, so memory is bounded by the largest
//! number of items alive at once, never by how many were ever inserted. A
//! [`Key`] carries the slot's generation at insertion; once the item is
//! removed, every old key to that slot stops resolving. That is how events
//! about a finished call or a killed job become harmless (lazy cancellation).

/// A handle to a slab item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    index: u32,
    gen_: u32,
}

impl Key {
    /// A number unique among the items alive at once (for bulkhead queues).
    pub fn id(self) -> u64 {
        (u64::from(self.gen_) << 32) | u64::from(self.index)
    }

    /// The key [`Key::id`] came from.
    pub fn from_id(id: u64) -> Self {
        Self {
            index: id as u32,
            gen_: (id >> 32) as u32,
        }
    }
}

struct Slot<T> {
    gen_: u32,
    value: Option<T>,
}

/// Items addressed by generational keys.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value`.
    pub fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return Key { index, gen_: slot.gen_ };
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot {
            gen_: 0,
            value: Some(value),
        });
        Key { index, gen_: 0 }
    }

    /// The item, if `key` is still current.
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        let slot = self.slots.get(key.index as usize)?;
        if slot.gen_ == key.gen_ {
            slot.value.as_ref()
        } else {
            None
        }
    }

    /// The item, mutably, if `key` is still current.
    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.gen_ == key.gen_ {
            slot.value.as_mut()
        } else {
            None
        }
    }

    /// Removes and returns the item; its keys stop resolving.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.gen_ != key.gen_ {
            return None;
        }
        let value = slot.value.take()?;
        slot.gen_ = slot.gen_.wrapping_add(1);
        self.free.push(key.index);
        self.len -= 1;
        Some(value)
    }

    /// The keys of the live items `keep` accepts, in slot order.
    pub fn keys_where(&self, mut keep: impl FnMut(&T) -> bool) -> Vec<Key> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                let value = slot.value.as_ref()?;
                keep(value).then_some(Key {
                    index: i as u32,
                    gen_: slot.gen_,
                })
            })
            .collect()
    }

    /// Items alive.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is alive.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes everything, keeping storage (and bumping generations, so no
    /// old key resolves). Slots are then handed out in the order a fresh
    /// slab would use (lowest first): the order of [`Slab::keys_where`],
    /// and so what a trial does with it, must not depend on the trials the
    /// slab served before.
    pub fn clear(&mut self) {
        self.free.clear();
        for (i, slot) in self.slots.iter_mut().enumerate().rev() {
            slot.value = None;
            slot.gen_ = slot.gen_.wrapping_add(1);
            self.free.push(i as u32);
        }
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_keys_stop_resolving_and_slots_are_reused() {
        let mut s = Slab::default();
        let a = s.insert("a");
        assert_eq!(s.get(a), Some(&"a"));
        assert_eq!(s.remove(a), Some("a"));
        assert_eq!(s.get(a), None);
        let b = s.insert("b");
        assert_eq!(b.index, a.index);
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(Key::from_id(b.id()), b);
        s.clear();
        assert_eq!(s.get(b), None);
        assert!(s.is_empty());
        let c = s.insert("c");
        assert_eq!(s.len(), 1);
        assert_ne!(c, b);
    }

    /// A cleared slab hands out the slots a fresh one would, in the same
    /// order, whatever it held before.
    #[test]
    fn a_cleared_slab_allocates_like_a_fresh_one() {
        let script = |s: &mut Slab<u32>| -> Vec<u32> {
            let mut keys = Vec::new();
            let mut out = Vec::new();
            for i in 0..20u32 {
                let k = s.insert(i);
                out.push(k.index);
                keys.push(k);
                if i % 3 == 2 {
                    s.remove(keys.remove(1));
                }
            }
            out.extend(s.keys_where(|_| true).iter().map(|k| k.index));
            out
        };
        let fresh = script(&mut Slab::default());
        let mut used = Slab::default();
        for i in 0..50u32 {
            used.insert(i);
        }
        used.clear();
        assert_eq!(script(&mut used), fresh);
    }
}
