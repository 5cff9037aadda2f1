//! Parsers and validators for the domain values a spec holds: quantities,
//! durations, and the name syntaxes Kubernetes enforces. Each returns a
//! short reason on failure; the caller turns it into a diagnostic.

use crate::model::{Duration, IntOrPercent, Quantity};

/// Parse a Kubernetes quantity (`250m`, `0.5`, `128Mi`, `1e3`, `2G`).
pub fn parse_quantity(s: &str) -> Result<Quantity, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("a quantity cannot be empty".into());
    }
    let num_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let (neg, num) = match num.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, num.strip_prefix('+').unwrap_or(num)),
    };
    if neg {
        return Err("a quantity cannot be negative".into());
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!("`{s}` does not start with a number"));
    }
    // value = digits / 10^frac_len, in thousandths after scaling.
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err("the number is too large".into());
    }
    let mantissa: i128 =
        if digits.is_empty() { 0 } else { digits.parse().map_err(|_| "the number is too large".to_string())? };
    let frac_len = frac_part.len() as i32;
    let (mult_num, dec_exp, binary): (i128, i32, bool) = match suffix {
        "" => (1, 0, false),
        "m" => (1, -3, false),
        "k" => (1, 3, false),
        "M" => (1, 6, false),
        "G" => (1, 9, false),
        "T" => (1, 12, false),
        "P" => (1, 15, false),
        "E" => (1, 18, false),
        "Ki" => (1 << 10, 0, true),
        "Mi" => (1 << 20, 0, true),
        "Gi" => (1 << 30, 0, true),
        "Ti" => (1 << 40, 0, true),
        "Pi" => (1 << 50, 0, true),
        "Ei" => (1 << 60, 0, true),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().map_err(|_| format!("`{suffix}` is not a valid exponent"))?;
            if !(-30..=30).contains(&exp) {
                return Err("the exponent is out of range".into());
            }
            (1, exp, false)
        }
        other => {
            return Err(format!(
                "`{other}` is not a unit; use one of m, k, M, G, T, P, E (powers of 1000) or Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024)"
            ));
        }
    };
    // millis = mantissa * mult * 10^(dec_exp - frac_len + 3)
    let exp = dec_exp - frac_len + 3;
    let mut v = mantissa.checked_mul(mult_num).ok_or("the number is too large")?;
    if exp >= 0 {
        for _ in 0..exp {
            v = v.checked_mul(10).ok_or("the number is too large")?;
        }
    } else {
        for _ in 0..(-exp) {
            if v % 10 != 0 {
                return Err("Kubernetes cannot represent quantities finer than 1m (one thousandth)".into());
            }
            v /= 10;
        }
    }
    if v > 9_000_000_000_000_000_000_000 {
        return Err("the number is too large".into());
    }
    Ok(Quantity { millis: v, binary })
}

/// The canonical spelling of a quantity, as the API server would store it:
/// binary quantities in the largest exact binary unit, decimal ones in the
/// largest exact SI unit (`0.5` → `500m`, `1024Mi` → `1Gi`, `1000` → `1k`).
pub fn format_quantity(q: Quantity) -> String {
    if q.millis == 0 {
        return "0".into();
    }
    if q.binary && q.millis % 1000 == 0 {
        let bytes = q.millis / 1000;
        for (shift, unit) in [(60, "Ei"), (50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
            let d = 1i128 << shift;
            if bytes % d == 0 {
                return format!("{}{unit}", bytes / d);
            }
        }
        return bytes.to_string();
    }
    if q.millis % 1000 != 0 {
        return format!("{}m", q.millis);
    }
    let whole = q.millis / 1000;
    for (exp, unit) in [(18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k")] {
        let d = 10i128.pow(exp);
        if whole % d == 0 {
            return format!("{}{unit}", whole / d);
        }
    }
    whole.to_string()
}

/// Parse a duration such as `30s`, `5m`, `1h30m`, `500ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("a duration cannot be empty".into());
    }
    if t.contains(char::is_whitespace) {
        let joined: String = t.split_whitespace().collect();
        return match parse_duration(&joined) {
            Ok(_) => Err(format!("durations are written without spaces, like `{joined}`")),
            Err(e) => Err(e),
        };
    }
    if t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{t}` has no unit; write `{t}s` for seconds"));
    }
    let mut total: u64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let n_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if n_end == 0 {
            return Err(format!("`{t}` is not a duration like `30s`, `5m` or `1h30m`"));
        }
        let n: u64 = rest[..n_end].parse().map_err(|_| "the duration is too long".to_string())?;
        rest = &rest[n_end..];
        let u_end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..u_end];
        rest = &rest[u_end..];
        let mult: u64 = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("`{t}` ends without a unit")),
            other => {
                return Err(format!("`{other}` is not a duration unit; use ms, s, m, h or d"));
            }
        };
        total = n.checked_mul(mult).and_then(|v| total.checked_add(v)).ok_or("the duration is too long")?;
    }
    if total > 10 * 365 * 86_400_000 {
        return Err("the duration is longer than ten years".into());
    }
    Ok(Duration { millis: total })
}

/// Format a duration the short way (`90s` → `1m30s`).
pub fn format_duration(d: Duration) -> String {
    if d.millis == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut ms = d.millis;
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1000)] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    out
}

/// `3` or `"25%"`.
pub fn parse_int_or_percent(s: &str) -> Result<IntOrPercent, String> {
    match s.strip_suffix('%') {
        Some(p) => {
            let v: u32 = p.parse().map_err(|_| format!("`{s}` is not a percentage like `25%`"))?;
            if v > 100 {
                return Err("a percentage cannot exceed 100%".into());
            }
            Ok(IntOrPercent::Percent(v))
        }
        None => Err(format!("`{s}` is not a count or a percentage like `25%`")),
    }
}

/// RFC 1035 label: what a Service name must be (and so a service name).
pub fn check_dns1035_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err("must be 1 to 63 characters long".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    check_label_chars(s)
}

/// RFC 1123 label: namespaces, environment names, volume names.
pub fn check_dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err("must be 1 to 63 characters long".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err("must start with a lowercase letter or a digit".into());
    }
    check_label_chars(s)
}

fn check_label_chars(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("may contain only lowercase letters, digits and `-`, not `{c}`"));
    }
    if s.ends_with('-') {
        return Err("must end with a lowercase letter or a digit".into());
    }
    Ok(())
}

/// RFC 1123 subdomain: names of secrets, config maps, service accounts.
pub fn check_dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters long".into());
    }
    for part in s.split('.') {
        check_dns1123_label(part).map_err(|e| format!("each dot-separated part {e}"))?;
    }
    Ok(())
}

/// A host name a route matches (RFC 1123, lower case): dot-separated
/// DNS labels, at most 253 characters, not an IP address; a wildcard only
/// as the whole leftmost label (`*.example.com`), as the Gateway API and
/// the Ingress allow.
pub fn check_hostname(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix("*.").unwrap_or(s);
    if rest.contains('*') {
        return Err("a wildcard is only allowed as the whole first label: `*.example.com`".into());
    }
    if s.len() > 253 {
        return Err("a host name is at most 253 characters long".into());
    }
    if rest.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())) {
        return Err("an IP address is not a host name a route can match".into());
    }
    for label in rest.split('.') {
        check_dns1123_label(label).map_err(|e| format!("each dot-separated label {e}"))?;
    }
    Ok(())
}

/// A path a route matches: a URL path without a query (`?`), as the
/// Gateway API's path pattern allows.
pub fn check_route_path(s: &str) -> Result<(), String> {
    check_url_path(s)?;
    if s.contains('?') {
        return Err("a route matches the path only: remove the query (`?…`)".into());
    }
    Ok(())
}

/// An IPv4 or IPv6 range in the canonical form a NetworkPolicy `ipBlock`
/// takes (`10.20.0.0/16`): the address, and the prefix length within the
/// address size. A bare address is not a range.
pub fn parse_cidr(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let (addr, len) = s.split_once('/')?;
    let addr: std::net::IpAddr = addr.parse().ok()?;
    if len.is_empty()
        || len.len() > 3
        || !len.bytes().all(|b| b.is_ascii_digit())
        || (len.len() > 1 && len.starts_with('0'))
    {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// IANA service name: what a named container port must be.
pub fn check_port_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 15 {
        return Err("must be 1 to 15 characters long".into());
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("may contain only lowercase letters, digits and `-`, not `{c}`"));
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        return Err("must contain at least one letter".into());
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err("cannot start or end with `-` or contain `--`".into());
    }
    Ok(())
}

/// Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn check_metric_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if ok { Ok(()) } else { Err("metric names match [a-zA-Z_:][a-zA-Z0-9_:]*".to_string()) }
}

/// Environment variable name (C identifier plus `-` and `.`, as Kubernetes allows).
pub fn check_env_name(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    match chars.next() {
        None => return Err("cannot be empty".into()),
        Some(c) if c.is_ascii_digit() => return Err("cannot start with a digit".into()),
        _ => {}
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(format!("may contain only letters, digits, `_`, `-` and `.`, not `{c}`"));
    }
    Ok(())
}

/// A ConfigMap or Secret key (`IsConfigMapKey`): 1–253 characters of
/// letters, digits, `-`, `_` and `.`, and not `.` or `..`.
pub fn check_config_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters long".into());
    }
    if s == "." || s == ".." {
        return Err("cannot be `.` or `..`".into());
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!("may contain only letters, digits, `-`, `_` and `.`, not `{c}`"));
    }
    Ok(())
}

/// A path below a mount (`validateLocalDescendingPath`): relative, no `..`
/// segment, at most 4096 characters.
pub fn check_relative_path(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 4096 {
        return Err("must be 1 to 4096 characters long".into());
    }
    if s.starts_with('/') {
        return Err("must be relative to the mount path".into());
    }
    if s.split('/').any(|seg| seg == "..") {
        return Err("cannot contain a `..` segment".into());
    }
    if s.split('/').any(str::is_empty) {
        return Err("cannot contain an empty segment (`//` or a trailing `/`)".into());
    }
    Ok(())
}

/// An HTTP header name (RFC 9110 token, as the kubelet sends it):
/// letters, digits and `-`.
pub fn check_header_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("cannot be empty".into());
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
        return Err(format!("may contain only letters, digits and `-`, not `{c}`"));
    }
    Ok(())
}

/// Label or annotation key: `[prefix/]name`.
pub fn check_qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        check_dns1123_subdomain(p).map_err(|e| format!("the prefix `{p}` {e}"))?;
    }
    if name.is_empty() || name.len() > 63 {
        return Err("the name part must be 1 to 63 characters long".into());
    }
    let ok_edge = |c: char| c.is_ascii_alphanumeric();
    if !name.starts_with(ok_edge) || !name.ends_with(ok_edge) {
        return Err("the name part must start and end with a letter or digit".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!("the name part may contain only letters, digits, `-`, `_` and `.`, not `{c}`"));
    }
    Ok(())
}

/// Label value: empty, or up to 63 characters of `[A-Za-z0-9-_.]`, starting
/// and ending alphanumeric.
pub fn check_label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    if s.len() > 63 {
        return Err("a label value is at most 63 characters long".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || !s.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("a label value must start and end with a letter or digit".into());
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!("a label value may contain only letters, digits, `-`, `_` and `.`, not `{c}`"));
    }
    Ok(())
}

/// An image reference's repository, tag and digest, as written
/// (`REPO[:TAG][@DIGEST]`): a `:` after the last `/` separates the tag, a
/// `:` before it is a registry's port. Nothing is checked.
pub fn split_image(reference: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (reference, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

/// An image tag as the OCI distribution spec allows it.
pub fn check_image_tag(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 128 {
        return Err("a tag is 1 to 128 characters long".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err("a tag starts with a letter, digit or `_`".into());
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))) {
        return Err(format!("a tag may contain only letters, digits, `_`, `.` and `-`, not `{c}`"));
    }
    Ok(())
}

/// A digest such as `sha256:` followed by 64 hex digits.
pub fn check_digest(s: &str) -> Result<(), String> {
    let Some((alg, hex)) = s.split_once(':') else {
        return Err("a digest looks like `sha256:` followed by 64 hex digits".into());
    };
    let want = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => {
            return Err(format!("`{alg}` is not a digest algorithm; use sha256 or sha512"));
        }
    };
    if hex.len() != want || !hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
        return Err(format!("a {alg} digest has {want} lowercase hex digits"));
    }
    Ok(())
}

/// An image repository: `[registry[:port]/]path` in lowercase.
pub fn check_repository(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the repository cannot be empty".into());
    }
    let mut parts: Vec<&str> = s.split('/').collect();
    let first_is_registry =
        parts.len() > 1 && parts.first().is_some_and(|p| p.contains(['.', ':']) || *p == "localhost");
    if first_is_registry {
        let reg = parts.remove(0);
        let host = reg.split(':').next().unwrap_or("");
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')) {
            return Err(format!("`{reg}` is not a registry host"));
        }
        if let Some((_, port)) = reg.split_once(':')
            && port.parse::<u16>().is_err()
        {
            return Err(format!("`{port}` is not a registry port"));
        }
    }
    for p in parts {
        let ok = !p.is_empty()
            && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
            && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            && p.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "`{p}` is not a valid path component: use lowercase letters, digits and single `.`, `_` or `-` between them"
            ));
        }
    }
    Ok(())
}

/// An HTTP path as a probe or health check requests it: a leading `/`, then
/// only the characters RFC 3986 allows in a path and query, without `$`
/// and quotes (they would mean something to a shell), whitespace, control
/// characters or `#`; `%` introduces two hex digits.
pub fn check_url_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("a path starts with `/`".into());
    }
    if s.len() > 1024 {
        return Err("a path is at most 1024 characters long".into());
    }
    let b = s.as_bytes();
    for (i, c) in s.char_indices() {
        let ok = c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | '~'
                    | '!'
                    | '&'
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | ':'
                    | '@'
                    | '/'
                    | '?'
                    | '%'
            );
        if !ok {
            return Err(format!("{} is not allowed in a URL path; percent-encode it", describe_char(c)));
        }
        if c == '%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err("`%` must be followed by two hex digits".into());
        }
    }
    Ok(())
}

/// How a character is named in a message: printable ones in backticks,
/// others by their code point (a newline shown raw would break the line).
pub fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() { format!("U+{:04X}", u32::from(c)) } else { format!("`{c}`") }
}

/// A toolchain version as a runtime preset takes it: `20`, `20.11` or `20.11.1`.
pub fn check_version(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.split('.').count() <= 3
        && s.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if ok { Ok(()) } else { Err("a version is one to three dot-separated numbers, such as `20` or `20.11.1`".into()) }
}

/// The path of a spec as svcc writes it into generated files (workflow,
/// deploy script, header comments): only `A-Z a-z 0-9 . _ / -`, and no
/// path component that starts with `-` (it would read as an option).
pub fn check_spec_path(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))) {
        return Err(format!(
            "{} is not allowed in a spec file name: use only letters, digits, `.`, `_`, `/` and `-`",
            describe_char(c)
        ));
    }
    if s.split('/').any(|part| part.starts_with('-')) {
        return Err("a part of the path starts with `-`, which commands would read as an option".into());
    }
    if s.is_empty() || s.len() > 1024 {
        return Err("a spec path is 1 to 1024 characters long".into());
    }
    Ok(())
}

/// An `https://` URL to download from: a host, then only characters that
/// need no quoting anywhere (no `$`, quotes, whitespace or control
/// characters), and no password in it.
pub fn check_https_url(s: &str) -> Result<(), String> {
    if !s.starts_with("https://") {
        return Err("the URL must start with `https://`".into());
    }
    check_http_url(s)
}

/// An `http://` or `https://` URL as [`check_https_url`] describes it.
pub fn check_http_url(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")) else {
        return Err("the URL must start with `https://` or `http://`".into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err("the URL needs a host, without user or password".into());
    }
    if s.len() > 2048 {
        return Err("a URL is at most 2048 characters long".into());
    }
    if let Some(c) = s.chars().find(|c| {
        !(c.is_ascii_alphanumeric()
            || matches!(c, '-' | '.' | '_' | '~' | '/' | ':' | '?' | '=' | '&' | '%' | '+' | ','))
    }) {
        return Err(format!("{} is not allowed in the URL; percent-encode it", describe_char(c)));
    }
    Ok(())
}

/// `n` lowercase hex digits (a SHA-256 checksum: 64; a git commit: 40).
pub fn check_hex(s: &str, n: usize) -> Result<(), String> {
    if s.len() == n && s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
        Ok(())
    } else {
        Err(format!("expected exactly {n} lowercase hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_at_the_last_path_segment() {
        assert_eq!(split_image("ghcr.io/acme/api:1.4.2"), ("ghcr.io/acme/api", Some("1.4.2"), None));
        assert_eq!(split_image("registry:5000/api"), ("registry:5000/api", None, None));
        assert_eq!(split_image("registry:5000/api:v1@sha256:ab"), ("registry:5000/api", Some("v1"), Some("sha256:ab")));
        assert_eq!(split_image("mongo"), ("mongo", None, None));
    }

    fn q(s: &str) -> String {
        format_quantity(parse_quantity(s).unwrap())
    }

    #[test]
    fn quantities_normalise_like_the_api_server() {
        assert_eq!(q("200m"), "200m");
        assert_eq!(q("0.5"), "500m");
        assert_eq!(q("1"), "1");
        assert_eq!(q("1000m"), "1");
        assert_eq!(q("1024Mi"), "1Gi");
        assert_eq!(q("256Mi"), "256Mi");
        assert_eq!(q("1.5Gi"), "1536Mi");
        assert_eq!(q("1e3"), "1k");
        assert_eq!(q("2000"), "2k");
        assert_eq!(q("100"), "100");
        assert_eq!(q("0"), "0");
        assert_eq!(q("0.1Ki"), "102400m");
    }

    #[test]
    fn quantities_compare_across_units() {
        assert!(parse_quantity("1Gi").unwrap().millis > parse_quantity("1G").unwrap().millis);
        assert!(parse_quantity("500m").unwrap() < parse_quantity("1").unwrap());
    }

    #[test]
    fn bad_quantities() {
        for s in ["", "abc", "1.2.3", "10mb", "-1", "0.0001", "1e99", "Mi"] {
            assert!(parse_quantity(s).is_err(), "{s} should fail");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap().millis, 30_000);
        assert_eq!(parse_duration("1h30m").unwrap().millis, 5_400_000);
        assert_eq!(parse_duration("500ms").unwrap().millis, 500);
        assert_eq!(format_duration(parse_duration("90s").unwrap()), "1m30s");
        for s in ["", "30", "s", "5x", "1.5s", "99999999999999999999s"] {
            assert!(parse_duration(s).is_err(), "{s} should fail");
        }
    }

    #[test]
    fn names() {
        assert!(check_dns1035_label("backend-api").is_ok());
        assert!(check_dns1035_label("1api").is_err());
        assert!(check_dns1035_label("Api").is_err());
        assert!(check_dns1035_label(&"a".repeat(64)).is_err());
        assert!(check_port_name("http").is_ok());
        assert!(check_port_name("http-metrics-long").is_err());
        assert!(check_port_name("80").is_err());
        assert!(check_env_name("NODE_ENV").is_ok());
        assert!(check_env_name("1X").is_err());
        assert!(check_qualified_name("app.kubernetes.io/name").is_ok());
        assert!(check_qualified_name("bad key").is_err());
        assert!(check_label_value("v1.2").is_ok());
        assert!(check_label_value("-x").is_err());
        assert!(check_repository("ghcr.io/company/backend").is_ok());
        assert!(check_repository("localhost:5000/a").is_ok());
        assert!(check_repository("Company/Backend").is_err());
        assert!(check_image_tag("1.4.2").is_ok());
        assert!(check_image_tag("a b").is_err());
        assert!(check_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
    }
}
