//! Credentials written into a spec (`docs/security.md#secrets`): whatever a
//! spec says lands in manifests that are committed to Git and readable by
//! anyone who can read the repository or the objects, so a credential must
//! be referenced (`env NAME secret="…" key="…"`, `env-from secret="…"`, a
//! `secret=` volume), never written. SVC0406.
//!
//! Every string of every file a compilation decodes (the spec, its presets
//! and org defaults) is scanned, so every place a spec string can reach the
//! output is covered: env values, labels, annotations, `command`/`args`,
//! patch values, pipeline URLs, and whatever the language grows next. Two
//! kinds of evidence:
//!
//! - **Patterns** that are credentials wherever they appear ([`detect`]):
//!   AWS access key ids (`AKIA`/`ASIA` + 16), GitHub tokens (`ghp_`, `gho_`,
//!   `ghs_`, `ghu_`, `ghr_` + 36, `github_pat_`), Slack tokens
//!   (`xox[baprs]-`) and webhook URLs, Stripe live keys (`sk_live_`,
//!   `rk_live_`), Google API keys (`AIza` + 35), PEM private key blocks,
//!   JSON Web Tokens (`eyJ….eyJ….…`), and URLs with a password in their
//!   user info (`scheme://user:pass@host`; `$(VAR)`, `${VAR}`, `{{ … }}` and
//!   `<…>` placeholders are not passwords).
//! - **Names**: a value named like a secret ([`secret_name`]: a `_`-word
//!   `PASSWORD`, `PASSWD`, `PASSPHRASE`, `SECRET`, `TOKEN`, `CREDENTIALS`,
//!   `APIKEY`, or `API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`, …, not ending in
//!   `_FILE`, `_PATH`, `_NAME`, `_URL`, …) that also looks random
//!   ([`random_looking`]): an env variable, a `{ name …; value … }` pair in
//!   a patch, a `--flag=value` or `--flag value` argument, a URL query
//!   parameter.
//!
//! A false positive is silenced on the node that holds the value, with the
//! reason: `SENTRY_DSN "https://…" allow-secret="public DSN, not a
//! credential"`. An `allow-secret` on a node with nothing to silence is
//! SVC0407.

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::decode::reader::value_span;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};

/// The property that silences a false positive, with the reason.
pub const ALLOW_SECRET: &str = "allow-secret";

/// The smallest value [`random_looking`] considers.
pub const MIN_LENGTH: usize = 12;
/// Shannon entropy, in bits per character, from which a value named like
/// a secret counts as random: an English word or a slug stays below it
/// (`production` 3.1, but `ProductionDatabase` reaches 3.6), 12 random
/// base62 characters reach 3.5 on average, hex 3.0 and more.
pub const MIN_ENTROPY: f64 = 3.0;

/// What a value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    AwsAccessKey,
    GitHubToken,
    SlackToken,
    SlackWebhook,
    StripeKey,
    GoogleApiKey,
    PrivateKey,
    Jwt,
    UrlPassword,
    /// A random-looking value under a secret's name.
    Named,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::AwsAccessKey => "an AWS access key id",
            Kind::GitHubToken => "a GitHub token",
            Kind::SlackToken => "a Slack token",
            Kind::SlackWebhook => "a Slack webhook URL",
            Kind::StripeKey => "a Stripe live key",
            Kind::GoogleApiKey => "a Google API key",
            Kind::PrivateKey => "a private key",
            Kind::Jwt => "a JSON Web Token",
            Kind::UrlPassword => "a URL with a password",
            Kind::Named => "a secret",
        }
    }
}

/// `s[i..]` starts a token: `i` is the start or follows a non-word character.
fn starts_token(s: &str, i: usize) -> bool {
    s[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
}

/// How many characters after byte `from` satisfy `ok`.
fn run(s: &str, from: usize, ok: impl Fn(char) -> bool) -> usize {
    s[from..].chars().take_while(|c| ok(*c)).count()
}

/// `prefix` at a token start, followed by at least `min` characters
/// satisfying `ok`, and (when `exact`) then by no further such character.
fn prefixed(s: &str, prefix: &str, min: usize, exact: bool, ok: impl Fn(char) -> bool + Copy) -> bool {
    s.match_indices(prefix).any(|(i, _)| {
        let n = run(s, i + prefix.len(), ok);
        starts_token(s, i) && n >= min && (!exact || n == min)
    })
}

fn upper_digit(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}
fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}
fn base64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The credential pattern `s` contains, if any.
pub fn detect(s: &str) -> Option<Kind> {
    if s.contains("://") && (url_password(s) || query_secret(s)) {
        return Some(Kind::UrlPassword);
    }
    if s.len() < 16 {
        return None;
    }
    if ["AKIA", "ASIA"].iter().any(|p| prefixed(s, p, 16, true, upper_digit)) {
        return Some(Kind::AwsAccessKey);
    }
    if ["ghp_", "gho_", "ghs_", "ghu_", "ghr_"].iter().any(|p| prefixed(s, p, 36, false, alnum))
        || prefixed(s, "github_pat_", 22, false, |c| alnum(c) || c == '_')
    {
        return Some(Kind::GitHubToken);
    }
    if ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"].iter().any(|p| prefixed(s, p, 10, false, |c| alnum(c) || c == '-'))
    {
        return Some(Kind::SlackToken);
    }
    if s.match_indices("hooks.slack.com/services/T").any(|(i, m)| run(s, i + m.len(), |c| alnum(c) || c == '/') >= 20) {
        return Some(Kind::SlackWebhook);
    }
    if ["sk_live_", "rk_live_"].iter().any(|p| prefixed(s, p, 16, false, alnum)) {
        return Some(Kind::StripeKey);
    }
    if prefixed(s, "AIza", 35, false, base64url) {
        return Some(Kind::GoogleApiKey);
    }
    if private_key(s) {
        return Some(Kind::PrivateKey);
    }
    if jwt(s) {
        return Some(Kind::Jwt);
    }
    None
}

/// `-----BEGIN [RSA |EC |OPENSSH |ENCRYPTED |PGP ]PRIVATE KEY[ BLOCK]-----`.
fn private_key(s: &str) -> bool {
    s.match_indices("-----BEGIN ").any(|(i, m)| {
        let rest = &s[i + m.len()..];
        rest.find("-----").is_some_and(|end| {
            let label = &rest[..end];
            label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK")
        })
    })
}

/// Three base64url parts separated by dots, the first two JSON objects
/// (`eyJ` is `{"` encoded).
fn jwt(s: &str) -> bool {
    s.match_indices("eyJ").any(|(i, _)| {
        if !starts_token(s, i) {
            return false;
        }
        let header = run(s, i, base64url);
        let p = i + header;
        if header < 10 || !s[p..].starts_with(".eyJ") {
            return false;
        }
        let payload = run(s, p + 1, base64url);
        payload >= 10 && s[p + 1 + payload..].starts_with('.')
    })
}

/// A placeholder rather than a value: `$(VAR)` (Kubernetes expands it from
/// the container's env), `${VAR}`, `{{ … }}`, `<password>`, `***`.
fn placeholder(s: &str) -> bool {
    s.is_empty()
        || s.starts_with("$(")
        || s.starts_with("${")
        || s.starts_with("{{")
        || s.starts_with('<')
        || s.starts_with('%')
        || s.chars().all(|c| c == '*' || c == 'x' || c == 'X')
}

/// `scheme://user:password@host` with a password that is not a placeholder.
fn url_password(s: &str) -> bool {
    s.match_indices("://").any(|(i, _)| {
        let scheme_ok = s[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest = &s[i + 3..];
        let authority = &rest[..rest.find(['/', '?', '#', ' ', '\n', '"', '\'']).unwrap_or(rest.len())];
        let Some(at) = authority.rfind('@') else { return false };
        scheme_ok && authority[..at].split_once(':').is_some_and(|(_, pass)| !placeholder(pass))
    })
}

/// `?token=…` / `&api_key=…`: a query parameter named like a secret with a
/// random-looking value.
fn query_secret(s: &str) -> bool {
    let Some(q) = s.find("://").and_then(|i| s[i..].find('?').map(|j| i + j + 1)) else { return false };
    s[q..].split(['&', '#']).any(|kv| kv.split_once('=').is_some_and(|(k, v)| secret_name(k) && random_looking(v)))
}

/// Does a variable, flag or parameter name say it holds a secret?
/// Case-insensitive; `-` counts as `_`.
pub fn secret_name(name: &str) -> bool {
    const WORDS: &[&str] = &["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIALS", "CREDS", "APIKEY"];
    const KEYS: &[&str] = &["API", "PRIVATE", "ACCESS", "SECRET", "SIGNING", "ENCRYPTION", "AUTH", "MASTER", "CLIENT"];
    const REFERENCES: &[&str] = &[
        "FILE",
        "PATH",
        "DIR",
        "NAME",
        "REF",
        "URL",
        "URI",
        "ENDPOINT",
        "HOST",
        "HEADER",
        "TTL",
        "TIMEOUT",
        "EXPIRY",
        "LENGTH",
        "SIZE",
        "ENABLED",
        "TYPE",
        "ID",
        "ALGORITHM",
        "VERSION",
    ];
    let upper = name.trim_start_matches('-').to_ascii_uppercase().replace('-', "_");
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    if words.last().is_none_or(|w| REFERENCES.contains(w)) {
        return false;
    }
    words.iter().any(|w| WORDS.contains(w)) || words.windows(2).any(|p| p[1] == "KEY" && KEYS.contains(&p[0]))
}

/// Shannon entropy of the characters of `s`, in bits per character.
pub fn entropy(s: &str) -> f64 {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    let mut counts: Vec<(char, usize)> = Vec::new();
    for c in &chars {
        match counts.iter_mut().find(|(k, _)| k == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((*c, 1)),
        }
    }
    let len = chars.len() as f64;
    counts.iter().map(|(_, n)| *n as f64 / len).map(|p| -p * p.log2()).sum()
}

/// A value that looks generated rather than chosen: at least
/// [`MIN_LENGTH`] characters without spaces, at least two of lower case,
/// upper case, digits and other symbols (`-`, `_`, `.`, `/`, `:` do not
/// count: they join words), entropy at least [`MIN_ENTROPY`], and not a
/// reference (a path, a URL without a password, a placeholder).
pub fn random_looking(v: &str) -> bool {
    if v.chars().count() < MIN_LENGTH || v.chars().any(char::is_whitespace) {
        return false;
    }
    if v.starts_with('/') || v.starts_with("./") || placeholder(v) || (v.contains("://") && !url_password(v)) {
        return false;
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| !c.is_ascii_alphanumeric() && !"-_./:".contains(c)),
    ];
    classes.iter().filter(|c| **c).count() >= 2 && entropy(v) >= MIN_ENTROPY
}

/// Scan every string of a decoded file (see the module documentation).
pub fn scan(doc: &KdlDocument, diags: &mut Diagnostics) {
    for node in doc.nodes() {
        scan_node(node, None, diags);
    }
}

/// The string arguments and properties of a node, `allow-secret` aside.
fn strings(node: &KdlNode) -> impl Iterator<Item = (&KdlEntry, &str)> {
    node.entries().iter().filter(|e| e.name().is_none_or(|n| n.value() != ALLOW_SECRET)).filter_map(|e| {
        match e.value() {
            KdlValue::String(s) => Some((e, s.as_str())),
            _ => None,
        }
    })
}

/// `var`: the variable whose value this node's first argument is (an `env`
/// child, or the `value` of a `{ name …; value … }` pair).
fn scan_node(node: &KdlNode, var: Option<&str>, diags: &mut Diagnostics) {
    let allow = node.entry(ALLOW_SECRET);
    let mut flagged = false;
    let mut previous: Option<&str> = None;
    for (i, (e, s)) in strings(node).enumerate() {
        // The name the value goes by, when it says "secret".
        let flag = s.split_once('=').filter(|(f, _)| f.starts_with('-'));
        let named = match (var, flag, previous) {
            (Some(n), _, _) if i == 0 && e.name().is_none() => Some((n, s)),
            (_, Some((f, v)), _) => Some((f, v)),
            (_, _, Some(p)) if p.starts_with('-') => Some((p, s)),
            _ => None,
        }
        .filter(|(n, v)| secret_name(n) && random_looking(v));
        previous = Some(s);
        let found = match (detect(s), named) {
            (Some(kind), _) => (kind, var),
            (None, Some((n, _))) => (Kind::Named, Some(n)),
            (None, None) => continue,
        };
        flagged = true;
        if allow.is_none() {
            diags.push(report(e, found.0, found.1, var.is_some()));
        }
    }
    if let Some(a) = allow {
        check_allow(a, flagged, diags);
    }
    let children = node.children().map_or(&[][..], KdlDocument::nodes);
    // `{ name "DB_PASSWORD"; value "…" }` in a patch reads like an env variable.
    let pair = children.iter().find(|c| c.name().value() == "name").and_then(|c| match c.entries().first()?.value() {
        KdlValue::String(s) => Some(s.as_str()),
        _ => None,
    });
    for child in children {
        let var = match (node.name().value(), child.name().value()) {
            ("env", name) => Some(name),
            (_, "value") => pair,
            _ => None,
        };
        scan_node(child, var, diags);
    }
}

/// SVC0406 at the value `e`, which looks like `kind`; `name` is the
/// variable or flag it is the value of, `env` whether it is an env value.
fn report(e: &KdlEntry, kind: Kind, name: Option<&str>, env: bool) -> Diagnostic {
    let what = kind.describe();
    let (message, label) = match (kind, name) {
        (Kind::Named, Some(n)) => {
            (format!("`{n}` is set to a literal secret"), "named like a secret, and random-looking".to_string())
        }
        (_, Some(n)) => (format!("`{n}` is set to {what}"), format!("looks like {what}")),
        _ => (format!("{what} is written into the spec"), format!("looks like {what}")),
    };
    let how = match name {
        Some(n) if env => {
            format!("take it from a Secret: `{n} secret=\"…\" key=\"…\"`, or import one with `env-from secret=\"…\"`")
        }
        _ => "keep it in a Secret and reference it: `env NAME secret=\"…\" key=\"…\"`, `env-from secret=\"…\"`, or a volume with `secret=\"…\"`".to_string(),
    };
    let mut d = Diagnostic::error(Code::LiteralSecret, message)
        .at(value_span(e), label)
        .help(format!("{how}; if it is not a secret, say why: `allow-secret=\"…\"`"))
        .note("manifests are committed to Git and readable by anyone who can read the repository or the objects; a secret that reached a commit must be rotated");
    if kind == Kind::UrlPassword || (kind == Kind::Named && !env) {
        d = d.note("Kubernetes expands `$(VAR)` in env values, `command` and `args`: `postgres://app:$(DB_PASSWORD)@db/app` or `--token=$(API_TOKEN)` takes the secret from a variable, itself taken from a Secret");
    }
    d
}

fn check_allow(a: &KdlEntry, flagged: bool, diags: &mut Diagnostics) {
    match a.value() {
        KdlValue::String(reason) if !reason.trim().is_empty() => {
            if !flagged {
                diags.push(
                    Diagnostic::warning(Code::UnusedException, "nothing here looks like a secret")
                        .at(crate::decode::reader::entry_span(a), "no value of this node is flagged")
                        .help("remove `allow-secret`: a stale one would hide a credential written here later"),
                );
            }
        }
        KdlValue::String(_) => diags.push(
            Diagnostic::error(Code::MissingValue, "missing a reason")
                .at(value_span(a), "needs a reason")
                .help("say why the value is not a secret: reviewers read this"),
        ),
        _ => diags.push(crate::decode::reader::wrong_type(
            a,
            "a string",
            Some("write the reason: `allow-secret=\"…\"`".into()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pattern_and_a_near_miss() {
        let cases: &[(&str, Option<Kind>)] = &[
            ("AKIAIOSFODNN7EXAMPLE", Some(Kind::AwsAccessKey)),
            ("key=ASIAY34FZKBOKMUTVV7A", Some(Kind::AwsAccessKey)),
            ("AKIAIOSFODNN7EXAMPL", None),
            ("AKIAIOSFODNN7EXAMPLE1", None),
            ("xAKIAIOSFODNN7EXAMPLE", None),
            ("akiaiosfodnn7example", None),
            ("ghp_1234567890abcdefghijklmnopqrstuvwxyz", Some(Kind::GitHubToken)),
            ("ghs_1234567890abcdefghijklmnopqrstuvwxyz", Some(Kind::GitHubToken)),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", Some(Kind::GitHubToken)),
            ("ghp_1234567890abcdefghijklmnopqrstuvwxy", None),
            ("github_pat_short", None),
            ("xoxb-123456789012-abcdefghijkl", Some(Kind::SlackToken)),
            ("xoxq-123456789012-abcdefghijkl", None),
            ("https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX", Some(Kind::SlackWebhook)),
            ("https://hooks.slack.com/services/", None),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Some(Kind::StripeKey)),
            ("rk_live_4eC39HqLyjWDarjtT1zdp7dc", Some(Kind::StripeKey)),
            ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", None),
            ("AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", Some(Kind::GoogleApiKey)),
            ("AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsH", None),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----", Some(Kind::PrivateKey)),
            ("-----BEGIN PRIVATE KEY-----\nMIIE", Some(Kind::PrivateKey)),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", Some(Kind::PrivateKey)),
            ("-----BEGIN PGP PRIVATE KEY BLOCK-----", Some(Kind::PrivateKey)),
            ("-----BEGIN CERTIFICATE-----\nMIIE", None),
            ("-----BEGIN PUBLIC KEY-----\nMIIB", None),
            (
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                Some(Kind::Jwt),
            ),
            ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", None),
            ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.notjson.sig", None),
            ("postgres://app:s3cr3t@db:5432/app", Some(Kind::UrlPassword)),
            ("https://user:hunter2@example.com", Some(Kind::UrlPassword)),
            ("https://api.example.com/v1?api_key=Zx81kLq2Pw93mNv7", Some(Kind::UrlPassword)),
            ("https://api.example.com/v1?page=2&sort=name", None),
            ("postgres://app:$(DB_PASSWORD)@db:5432/app", None),
            ("postgres://app:${DB_PASSWORD}@db:5432/app", None),
            ("https://user@example.com/path", None),
            ("https://staging-api.example.com:8443/health", None),
            ("git@github.com:acme/api.git", None),
        ];
        for (s, want) in cases {
            assert_eq!(detect(s), *want, "{s:?}");
        }
    }

    #[test]
    fn ordinary_values_are_not_secrets() {
        for s in [
            "production",
            "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            "ghcr.io/acme/api@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            "123e4567-e89b-12d3-a456-426614174000",
            "https://staging-api.example.com",
            "arn:aws:iam::123456789012:role/payments",
            "sum(rate(http_requests_total{job=\"api\"}[5m]))",
        ] {
            assert_eq!(detect(s), None, "{s:?}");
        }
    }

    #[test]
    fn secret_names() {
        for n in [
            "DB_PASSWORD",
            "password",
            "JWT_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "GITHUB_TOKEN",
            "STRIPE_API_KEY",
            "SIGNING_KEY",
            "GOOGLE_CREDENTIALS",
            "--db-password",
            "SECRET_KEY_BASE",
            "access_token",
        ] {
            assert!(secret_name(n), "{n}");
        }
        for n in [
            "NODE_ENV",
            "DB_PASSWORD_FILE",
            "SECRET_NAME",
            "TOKEN_TTL",
            "AWS_ACCESS_KEY_ID",
            "KEYCLOAK_URL",
            "PASSWORDLESS",
            "MONKEY",
            "page",
        ] {
            assert!(!secret_name(n), "{n}");
        }
    }

    #[test]
    fn randomness_and_its_threshold() {
        for v in ["S3cr3tP@ssw0rd!", "79850cf34c450595", "JELI_OZP71TfbLnm", "1d124232-ae07-4b46-9f6a-148bb3cd25ef"] {
            assert!(random_looking(v), "{v}: entropy {}", entropy(v));
        }
        for v in [
            "changeme",
            "payments-db-credentials-prod",
            "my-super-secret",
            "/run/secrets/db-password",
            "https://vault.example.com/v1/secret",
            "$(DB_PASSWORD)",
            "aaaaaaaa11111111",
            "3600",
            "correct horse battery staple",
        ] {
            assert!(!random_looking(v), "{v}: entropy {}", entropy(v));
        }
        assert!((entropy("aabb") - 1.0).abs() < 1e-9);
        assert_eq!(entropy(""), 0.0);
    }
}
