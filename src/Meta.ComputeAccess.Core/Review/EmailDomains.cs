namespace Meta.ComputeAccess.Review;

/// <summary>
/// Email-domain rules for conflict detection: which domains are public webmail (never a conflict)
/// and which part of a domain identifies the institution (<c>cs.mit.edu</c> and <c>mit.edu</c> are one).
/// </summary>
public static class EmailDomains
{
    // Every address at these providers belongs to a different person with no shared employer,
    // so a shared domain says nothing about a conflict.
    private static readonly HashSet<string> Webmail = new(StringComparer.Ordinal)
    {
        "gmail.com", "googlemail.com",
        "outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com",
        "yahoo.com", "ymail.com", "rocketmail.com",
        "icloud.com", "me.com", "mac.com",
        "aol.com", "aim.com",
        "gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de",
        "mail.ru", "bk.ru", "inbox.ru", "list.ru", "yandex.ru", "yandex.com", "ya.ru", "rambler.ru",
        "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "aliyun.com",
        "naver.com", "daum.net", "hanmail.net",
        "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tuta.io",
        "zoho.com", "zohomail.com", "fastmail.com", "fastmail.fm", "hey.com", "mail.com", "email.com",
        "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "libero.it", "virgilio.it",
        "rediffmail.com", "seznam.cz", "wp.pl", "o2.pl", "interia.pl",
    };

    // Providers that run the same consumer service under many country domains (yahoo.co.uk, hotmail.fr, ...).
    private static readonly HashSet<string> WebmailBrands = new(StringComparer.Ordinal)
    {
        "gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "gmx", "yandex",
    };

    // Second-level labels under a country code that are registries, not institutions:
    // ox.ac.uk and cam.ac.uk are different universities even though both end in ac.uk.
    private static readonly HashSet<string> CountrySecondLevels = new(StringComparer.Ordinal)
    {
        "ac", "edu", "co", "com", "org", "net", "gov", "govt", "mil", "sch", "res", "nic",
        "go", "or", "ne", "gob", "gouv", "nhs", "ltd", "plc", "info", "int", "nom",
    };

    /// <summary>
    /// The registrable domain (public suffix plus one label): <c>cs.mit.edu</c> → <c>mit.edu</c>,
    /// <c>cs.ox.ac.uk</c> → <c>ox.ac.uk</c>. Uses a short rule instead of the full public suffix list:
    /// a two-letter country code preceded by a registry label (ac, edu, co, ...) is a two-label suffix.
    /// </summary>
    public static string RegistrableDomain(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var labels = domain.Trim().TrimEnd('.').ToLowerInvariant().Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length <= 2)
        {
            return string.Join('.', labels);
        }
        var tld = labels[^1];
        var suffixLabels = tld.Length == 2 && CountrySecondLevels.Contains(labels[^2]) ? 2 : 1;
        // RFC 2606 reserves "example" under every TLD for documentation and demos: like a public suffix, the label
        // below it names the institution (northfield.example.edu and lakeside.example.edu are two institutions).
        if (labels.Length > suffixLabels + 1 && labels[^(suffixLabels + 1)] == "example")
        {
            suffixLabels++;
        }
        var keep = Math.Min(labels.Length, suffixLabels + 1);
        return string.Join('.', labels[^keep..]);
    }

    /// <summary>True for consumer mail providers, whose shared domain never signals a conflict.</summary>
    public static bool IsWebmail(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var normalized = domain.Trim().TrimEnd('.').ToLowerInvariant();
        var registrable = RegistrableDomain(normalized);
        if (Webmail.Contains(normalized) || Webmail.Contains(registrable))
        {
            return true;
        }
        var brand = registrable.Split('.')[0];
        return WebmailBrands.Contains(brand);
    }
}
