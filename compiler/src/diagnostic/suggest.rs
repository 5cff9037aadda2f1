//! "Did you mean" suggestions.

/// Optimal-string-alignment edit distance (Damerau-Levenshtein without
/// repeated edits of one substring), over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1).min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a plausible
/// typo: a case-insensitive or `_`/`-` variant first, then the smallest edit
/// distance within a third of the longer word (at least 1).
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let w = norm(word);
    if let Some(c) = candidates.iter().find(|c| norm(c) == w) {
        return Some(c);
    }
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let dist = edit_distance(&w, &norm(c));
        let limit = (w.chars().count().max(c.chars().count()) / 3).max(1);
        if dist <= limit && best.is_none_or(|(bd, _)| dist < bd) {
            best = Some((dist, c));
        }
    }
    // A prefix that names exactly one candidate (`read` for `readiness`).
    if best.is_none() && w.len() >= 3 {
        let mut it = candidates.iter().filter(|c| norm(c).starts_with(&w));
        if let (Some(c), None) = (it.next(), it.next()) {
            return Some(c);
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("prot", "port"), 1);
        assert_eq!(edit_distance("replica", "replicas"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        let known = ["port", "replicas", "resources", "readiness"];
        assert_eq!(did_you_mean("prot", &known), Some("port"));
        assert_eq!(did_you_mean("Replicas", &known), Some("replicas"));
        assert_eq!(did_you_mean("resorces", &known), Some("resources"));
        assert_eq!(did_you_mean("banana", &known), None);
        assert_eq!(did_you_mean("readi", &known), Some("readiness"));
    }
}
