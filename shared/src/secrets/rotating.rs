//! [`Rotating`]: a value made from the configuration's secrets (an HMAC key, a token
//! minter), made once and remade only when a re-read of the secret changed the configuration.

use std::sync::{Arc, RwLock};

use super::Secrets;
use crate::config::Config;

type Make<T> = Box<dyn Fn(&Config) -> Option<T> + Send + Sync>;

pub struct Rotating<T>(Inner<T>);

enum Inner<T> {
    /// Secrets from the environment: they never change.
    Fixed(Arc<T>),
    Live {
        secrets: Secrets,
        make: Make<T>,
        /// The value and the version of the configuration it was made from.
        current: RwLock<(u64, Arc<T>)>,
    },
}

impl<T> Rotating<T> {
    /// `make` of the configuration: of `config`, or, when the secrets come from Secrets
    /// Manager, of each configuration a re-read brings. `None` when `make` finds nothing to
    /// make (the section it needs is not configured).
    pub fn new(
        config: &Config,
        secrets: Option<&Secrets>,
        make: impl Fn(&Config) -> Option<T> + Send + Sync + 'static,
    ) -> Option<Self> {
        let Some(secrets) = secrets else {
            return make(config).map(|value| Self(Inner::Fixed(Arc::new(value))));
        };
        let loaded = secrets.loaded();
        let value = make(&loaded.config)?;
        Some(Self(Inner::Live {
            secrets: secrets.clone(),
            make: Box::new(make),
            current: RwLock::new((loaded.version, Arc::new(value))),
        }))
    }

    /// A value that never changes.
    pub fn fixed(value: T) -> Self {
        Self(Inner::Fixed(Arc::new(value)))
    }

    /// The value made from the current configuration.
    pub fn get(&self) -> Arc<T> {
        let (secrets, make, current) = match &self.0 {
            Inner::Fixed(value) => return value.clone(),
            Inner::Live {
                secrets,
                make,
                current,
            } => (secrets, make, current),
        };
        let loaded = secrets.current();
        {
            let held = current.read().unwrap_or_else(|e| e.into_inner());
            // Versions only grow: a request holding an older configuration than the value's
            // takes the value as it is.
            if held.0 >= loaded.version {
                return held.1.clone();
            }
        }
        let mut held = current.write().unwrap_or_else(|e| e.into_inner());
        if held.0 < loaded.version {
            match make(&loaded.config) {
                Some(value) => held.1 = Arc::new(value),
                // A re-read that removed the section keeps the value made before; not tried
                // again until the next change.
                None => tracing::warn!(
                    "the re-read secret no longer configures what this function uses; the last value stays in use"
                ),
            }
            held.0 = loaded.version;
        }
        held.1.clone()
    }
}
