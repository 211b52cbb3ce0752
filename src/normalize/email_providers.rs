//! Data tables for e-mail canonicalisation: mailbox-provider rules,
//! placeholder addresses and role accounts. Data only; the logic is in `email.rs`.

/// What a provider does with dots in the local part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dots {
    /// Dots are significant: `a.b` and `ab` are different mailboxes.
    Keep,
    /// Dots are ignored: `a.b` and `ab` are the same mailbox (Gmail).
    Remove,
    /// Dots and hyphens are the same character (Yandex); written as `-`.
    AsHyphen,
}

/// One mailbox provider's canonicalisation rule.
#[derive(Debug)]
pub(crate) struct Provider {
    /// Every domain the provider serves the same mailboxes on.
    pub domains: &'static [&'static str],
    /// The domain every address of the provider is rewritten to.
    pub canonical_domain: &'static str,
    /// What dots in the local part mean.
    pub dots: Dots,
    /// Whether `local+tag` delivers to `local` (sub-addressing).
    pub plus_tags: bool,
}

/// Providers whose aliases and local-part rules are known.
///
/// Providers not listed (mail.ru, inbox.ru, list.ru and bk.ru among them: they
/// are separate mailboxes at Mail.ru, and do not document sub-addressing) get
/// case-folding only.
pub(crate) const PROVIDERS: &[Provider] = &[
    Provider {
        domains: &["gmail.com", "googlemail.com"],
        canonical_domain: "gmail.com",
        dots: Dots::Remove,
        plus_tags: true,
    },
    Provider {
        domains: &[
            "yandex.ru",
            "ya.ru",
            "yandex.com",
            "yandex.by",
            "yandex.kz",
            "yandex.ua",
        ],
        canonical_domain: "yandex.ru",
        dots: Dots::AsHyphen,
        plus_tags: true,
    },
    Provider {
        domains: &["icloud.com", "me.com", "mac.com"],
        canonical_domain: "icloud.com",
        dots: Dots::Keep,
        plus_tags: true,
    },
    Provider {
        domains: &["protonmail.com", "pm.me", "proton.me"],
        canonical_domain: "proton.me",
        dots: Dots::Keep,
        plus_tags: true,
    },
    Provider {
        domains: &["outlook.com"],
        canonical_domain: "outlook.com",
        dots: Dots::Keep,
        plus_tags: true,
    },
    Provider {
        domains: &["hotmail.com"],
        canonical_domain: "hotmail.com",
        dots: Dots::Keep,
        plus_tags: true,
    },
    Provider {
        domains: &["live.com"],
        canonical_domain: "live.com",
        dots: Dots::Keep,
        plus_tags: true,
    },
];

/// The rule for a lower-case ASCII domain, if the provider is known.
pub(crate) fn provider(domain: &str) -> Option<&'static Provider> {
    // Most domains are not providers: a cheap first-byte test skips the scan.
    if !matches!(
        domain.as_bytes().first(),
        Some(b'g' | b'y' | b'i' | b'm' | b'p' | b'o' | b'h' | b'l')
    ) {
        return None;
    }
    PROVIDERS.iter().find(|p| p.domains.contains(&domain))
}

/// Whether a domain is used as a placeholder (RFC 2606 reserved names and the domains
/// people type to get past a mandatory field).
pub(crate) fn is_placeholder_domain(s: &str) -> bool {
    matches!(
        s,
        "example.com"
            | "example.net"
            | "example.org"
            | "example.ru"
            | "test.com"
            | "test.ru"
            | "test.test"
            | "no.ru"
            | "no.com"
            | "none.ru"
            | "noemail.ru"
            | "noemail.com"
            | "nomail.ru"
            | "nomail.com"
            | "noname.ru"
            | "mail.test"
            | "email.test"
            | "domain.com"
            | "domain.ru"
            | "site.ru"
            | "localhost.localdomain"
    )
}

/// Whether a top-level domain is reserved for tests and documentation (RFC 2606, RFC 6761).
pub(crate) fn is_placeholder_tld(s: &str) -> bool {
    matches!(s, "test" | "example" | "invalid" | "localhost" | "local")
}

/// Whether a local part means "no address" whatever the domain.
pub(crate) fn is_placeholder_local(s: &str) -> bool {
    matches!(
        s,
        "test"
            | "tests"
            | "testtest"
            | "test1"
            | "test123"
            | "tester"
            | "noemail"
            | "no-email"
            | "no_email"
            | "nomail"
            | "no-mail"
            | "no_mail"
            | "none"
            | "no"
            | "nope"
            | "null"
            | "nil"
            | "na"
            | "n-a"
            | "unknown"
            | "empty"
            | "asdf"
            | "qwerty"
            | "xxx"
            | "email"
            | "mail"
            | "net"
            | "net-pochty"
            | "netpochty"
            | "nopochta"
    )
}

/// Whether a local part names a shared mailbox that do not belong to one person.
pub(crate) fn is_role_local(s: &str) -> bool {
    matches!(
        s,
        "info"
            | "noreply"
            | "no-reply"
            | "no_reply"
            | "donotreply"
            | "do-not-reply"
            | "admin"
            | "administrator"
            | "support"
            | "help"
            | "helpdesk"
            | "sales"
            | "contact"
            | "contacts"
            | "office"
            | "hello"
            | "billing"
            | "accounting"
            | "buh"
            | "postmaster"
            | "hostmaster"
            | "webmaster"
            | "abuse"
            | "mailer-daemon"
            | "marketing"
            | "press"
            | "pr"
            | "hr"
            | "jobs"
            | "careers"
            | "team"
            | "service"
            | "feedback"
            | "orders"
            | "order"
            | "zakaz"
            | "shop"
            | "market"
            | "reception"
            | "secretary"
            | "security"
            | "newsletter"
            | "news"
    )
}
