use crate::Id;

/// Paging as InfluxDB's list endpoints take it.
#[derive(Debug, Clone, Copy)]
pub struct FindOptions {
    pub limit: usize,
    pub offset: usize,
    /// Start after the resource with this ID (in listing order).
    pub after: Option<Id>,
    pub descending: bool,
}

impl Default for FindOptions {
    fn default() -> Self {
        Self { limit: Self::DEFAULT_LIMIT, offset: 0, after: None, descending: false }
    }
}

impl FindOptions {
    pub const DEFAULT_LIMIT: usize = 20;
    pub const MAX_LIMIT: usize = 100;

    /// No paging: everything that matches.
    pub fn all() -> Self {
        Self { limit: usize::MAX, ..Self::default() }
    }

    /// Applies ordering direction, `after`, `offset` and `limit` to a list already in
    /// ascending listing order.
    pub fn apply<T>(&self, mut items: Vec<T>, id_of: impl Fn(&T) -> Id) -> Vec<T> {
        if self.descending {
            items.reverse();
        }
        if let Some(after) = self.after
            && let Some(pos) = items.iter().position(|t| id_of(t) == after)
        {
            items.drain(..=pos);
        }
        items.into_iter().skip(self.offset).take(self.limit).collect()
    }
}

/// One page of a listing.
pub type Page<T> = Vec<T>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_honours_after_offset_limit_and_descending() {
        let ids: Vec<Id> = (0..5).map(|_| Id::generate()).collect();
        let opts = FindOptions { limit: 2, offset: 1, after: Some(ids[0]), descending: false };
        assert_eq!(opts.apply(ids.clone(), |i| *i), vec![ids[2], ids[3]]);
        let opts = FindOptions { limit: 2, offset: 0, after: None, descending: true };
        assert_eq!(opts.apply(ids.clone(), |i| *i), vec![ids[4], ids[3]]);
    }
}
