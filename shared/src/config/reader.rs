//! The environment lookup every section of the configuration is read through, collecting
//! problems instead of stopping at the first.

/// An environment lookup and the problems found so far.
pub(super) struct Reader<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    pub(super) problems: Vec<String>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            env,
            problems: Vec::new(),
        }
    }

    pub(super) fn optional(&self, name: &str) -> Option<String> {
        (self.env)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn required(&mut self, name: &str, why: &str) -> String {
        self.optional(name).unwrap_or_else(|| {
            self.problems.push(format!("{name} is required ({why})"));
            String::new()
        })
    }

    /// An `https://` (or `http://`) base URL, `default` when unset, without a trailing slash.
    pub(super) fn base_url(&mut self, name: &str, default: &str) -> String {
        let value = self.optional(name).unwrap_or_else(|| default.to_owned());
        self.check_web_url(name, &value);
        value.trim_end_matches('/').to_owned()
    }

    /// A problem unless `value` of `name` is an `https://` (or `http://`) URL.
    pub(super) fn check_web_url(&mut self, name: &str, value: &str) {
        if !(value.starts_with("https://") || value.starts_with("http://")) {
            self.problems
                .push(format!("{name} must start with https:// (or http://)"));
        }
    }

    pub(super) fn number(&mut self, name: &str, default: u32, min: u32, max: u32) -> u32 {
        match self.optional(name) {
            None => default,
            Some(raw) => match raw.parse::<u32>() {
                Ok(v) if (min..=max).contains(&v) => v,
                _ => {
                    self.problems.push(format!(
                        "{name} must be a whole number from {min} to {max}, got {raw:?}"
                    ));
                    default
                }
            },
        }
    }
}
