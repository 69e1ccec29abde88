use std::collections::HashMap;

/// Counts words.
pub struct Counter {
    counts: HashMap<String, usize>,
}

impl Counter {
    pub fn new() -> Self {
        Counter { counts: HashMap::new() }
    }

    /// Adds every word of `text`.
    pub fn add(&mut self, text: &str) {
        for word in text.split_whitespace() {
            <|cursor|>
        }
    }
}
