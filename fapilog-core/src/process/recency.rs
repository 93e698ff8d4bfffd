//! Keys in order of use, for the throttle's buckets and the aggregator's
//! groups: a full table forgets its least recently used key. A `BTreeMap`
//! keyed by last use did the same in O(log n) but made every event of a
//! repeating key 50–60% slower (throttle 237 → 359 ns, aggregation
//! 298 → 455 ns); a linked list over a slab costs 2–6%.

/// No neighbour: the end of the list.
const NIL: usize = usize::MAX;

/// Keys in order of use: a doubly linked list over a slab, so marking a key
/// used, forgetting it and finding the least recently used are O(1).
#[derive(Debug)]
pub(crate) struct Recency<K> {
    nodes: Vec<Node<K>>,
    free: Vec<usize>,
    oldest: usize,
    newest: usize,
}

#[derive(Debug)]
struct Node<K> {
    key: Option<K>,
    older: usize,
    newer: usize,
}

impl<K> Recency<K> {
    pub(crate) fn new() -> Self {
        Recency {
            nodes: Vec::new(),
            free: Vec::new(),
            oldest: NIL,
            newest: NIL,
        }
    }

    /// Adds `key` as the most recently used; returns its slot.
    pub(crate) fn push(&mut self, key: K) -> usize {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.nodes.push(Node {
                key: None,
                older: NIL,
                newer: NIL,
            });
            self.nodes.len() - 1
        });
        if let Some(node) = self.nodes.get_mut(slot) {
            node.key = Some(key);
        }
        self.link_newest(slot);
        slot
    }

    /// Marks the key in `slot` as the most recently used.
    pub(crate) fn touch(&mut self, slot: usize) {
        if slot != self.newest {
            self.unlink(slot);
            self.link_newest(slot);
        }
    }

    /// Forgets the key in `slot`.
    pub(crate) fn remove(&mut self, slot: usize) {
        if self.nodes.get(slot).is_some_and(|n| n.key.is_some()) {
            self.unlink(slot);
            if let Some(node) = self.nodes.get_mut(slot) {
                node.key = None;
            }
            self.free.push(slot);
        }
    }

    /// The key in `slot`.
    pub(crate) fn get(&self, slot: usize) -> Option<&K> {
        self.nodes.get(slot)?.key.as_ref()
    }

    /// The least recently used key.
    pub(crate) fn oldest(&self) -> Option<&K> {
        self.get(self.oldest)
    }

    /// Every key, least recently used first.
    pub(crate) fn oldest_first(&self) -> impl Iterator<Item = &K> {
        std::iter::successors(self.nodes.get(self.oldest), |n| self.nodes.get(n.newer))
            .filter_map(|n| n.key.as_ref())
    }

    fn unlink(&mut self, slot: usize) {
        let Some(&Node { older, newer, .. }) = self.nodes.get(slot) else {
            return;
        };
        match self.nodes.get_mut(older) {
            Some(n) => n.newer = newer,
            None => self.oldest = newer,
        }
        match self.nodes.get_mut(newer) {
            Some(n) => n.older = older,
            None => self.newest = older,
        }
    }

    fn link_newest(&mut self, slot: usize) {
        let newest = self.newest;
        if let Some(node) = self.nodes.get_mut(slot) {
            (node.older, node.newer) = (newest, NIL);
        }
        match self.nodes.get_mut(newest) {
            Some(n) => n.newer = slot,
            None => self.oldest = slot,
        }
        self.newest = slot;
    }
}
