using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Meta.ComputeAccess.Notifications;

/// <summary>A message rendered from a template: the subject, the one-line summary (in-app, digest) and both mail bodies.</summary>
public sealed record RenderedMessage(string Subject, string Summary, string Text, string Html);

/// <summary>What the bell, the notifications page and the digest show of a notice: its subject and one-line summary.</summary>
public sealed record RenderedHeadline(string Subject, string Summary);

/// <summary>
/// The mail templates in <c>Notifications/Templates</c> (embedded resources): one <c>&lt;kind&gt;.txt</c> per kind with a
/// <c>subject:</c> and <c>summary:</c> line, <c>---</c>, then the plain-text body, with <c>{{placeholders}}</c>. The
/// HTML part is the same text, escaped, with links made clickable, inside <c>_layout.html</c>. A placeholder without
/// a value is an error, so a template and its callers cannot drift apart silently.
/// <para>Text that people typed (titles, names) reaches a mail only as one inert line (<see cref="Inert"/>), and only
/// inside quotes: a template that puts <see cref="TypedText"/> anywhere else does not load. Only the portal's own URLs
/// (<see cref="Links"/>) are links, so an applicant cannot make a notice carry a line or a link of theirs.</para>
/// </summary>
public sealed partial class NotificationTemplates
{
    private const string ResourcePrefix = "Notifications.Templates.";

    /// <summary>Placeholders filled with text someone typed: every template writes them quoted, “{{subject}}”.</summary>
    public static readonly IReadOnlySet<string> TypedText = new HashSet<string>(["subject", "inviter", "call"], StringComparer.Ordinal);

    /// <summary>Placeholders filled with the portal's own URLs (built from its configured base): the only links in a mail.</summary>
    private static readonly HashSet<string> Links = new(["link", "unsubscribe", "preferences"], StringComparer.Ordinal);

    /// <summary>Placeholders the portal composes from lines that are already inert (the digest's list of notices).</summary>
    private static readonly HashSet<string> Composed = new(["items"], StringComparer.Ordinal);

    private const char ZeroWidthSpace = '\u200B';

    private readonly Dictionary<string, string> resources;

    /// <summary>Every <c>.txt</c> template with a header, parsed once.</summary>
    private readonly Dictionary<string, Template> parsed = new(StringComparer.Ordinal);

    private sealed record Template(string Subject, string Summary, string Body, IReadOnlySet<string> Placeholders);

    public NotificationTemplates()
    {
        var assembly = typeof(NotificationTemplates).Assembly;
        resources = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToDictionary(n => n[ResourcePrefix.Length..], n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
            }, StringComparer.Ordinal);
        var missing = NotificationKinds.All.Where(k => !resources.ContainsKey(k.Key + ".txt")).Select(k => k.Key).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException("No mail template for: " + string.Join(", ", missing));
        }
        foreach (var (name, source) in resources.Where(r => r.Key.EndsWith(".txt", StringComparison.Ordinal) && r.Value.Contains("\n---\n", StringComparison.Ordinal)))
        {
            parsed[name[..^".txt".Length]] = Parse(name, source);
        }
    }

    /// <summary>The template of a notification kind, or <c>_digest</c> for the daily digest: everything a mail carries.</summary>
    public RenderedMessage Render(string template, IReadOnlyDictionary<string, string> values, string footer)
    {
        var (subject, summary) = Headline(template, values);
        values = Prepared(values);
        var text = Fill(template, Get(template).Body, values) + "\n" + footer;
        var html = Fill("_layout", Resource("_layout.html"), new Dictionary<string, string>
        {
            ["subject"] = WebUtility.HtmlEncode(subject),
            ["body"] = ToHtml(text),
        });
        return new RenderedMessage(subject, summary, text, html);
    }

    /// <summary>
    /// Only the subject and summary, for a notice that is shown in the portal or in a digest and not mailed on its own.
    /// Every placeholder of the template must still have a value, so a caller cannot drift from its template unnoticed
    /// just because the user reads digests.
    /// </summary>
    public RenderedHeadline Headline(string template, IReadOnlyDictionary<string, string> values)
    {
        var parts = Get(template);
        if (parts.Placeholders.FirstOrDefault(p => !values.ContainsKey(p)) is { } missing)
        {
            throw new InvalidOperationException($"Template {template} needs a value for {{{{{missing}}}}}.");
        }
        values = Prepared(values);
        return new RenderedHeadline(Fill(template, parts.Subject, values), Fill(template, parts.Summary, values));
    }

    /// <summary>
    /// Text someone typed, made fit for a mail: its first line only (a title cannot add lines of its own to a notice),
    /// without control characters, and with a zero-width space after "://" and after a dot that joins two words
    /// ("evil.example"), so that no mail client makes a link of it. It reads the same. Applying it twice changes nothing.
    /// </summary>
    public static string Inert(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var end = text.AsSpan().IndexOfAny(LineBreaks);
        var line = end < 0 ? text : text[..end];
        var inert = new StringBuilder(line.Length + 8);
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i] == '\t' ? ' ' : line[i];
            if (char.IsControl(c))
            {
                continue;
            }
            inert.Append(c);
            var next = i + 1 < line.Length ? line[i + 1] : '\0';
            if ((c == ':' && next == '/' && i + 2 < line.Length && line[i + 2] == '/')
                || (c == '.' && char.IsLetter(next) && i > 0 && char.IsLetterOrDigit(line[i - 1])))
            {
                inert.Append(ZeroWidthSpace);
            }
        }
        return inert.ToString().Trim();
    }

    private static readonly System.Buffers.SearchValues<char> LineBreaks = System.Buffers.SearchValues.Create("\r\n\v\f\u0085\u2028\u2029");

    /// <summary>The values as a mail may carry them: each <see cref="Inert"/>, except the portal's links and composed lists.</summary>
    private static Dictionary<string, string> Prepared(IReadOnlyDictionary<string, string> values) =>
        values.ToDictionary(v => v.Key, v => Links.Contains(v.Key) || Composed.Contains(v.Key) ? v.Value : Inert(v.Value), StringComparer.Ordinal);

    /// <summary>The placeholders a template uses, for callers and tests: <c>name</c>, <c>subject</c> and <c>link</c> are always supplied by the Notifier.</summary>
    public IReadOnlyList<string> Placeholders(string template) => [.. Get(template).Placeholders];

    /// <summary>The footer of a mail: the unsubscribe and preferences links, or the security notice.</summary>
    public string Footer(string? unsubscribeUrl, string preferencesUrl) =>
        unsubscribeUrl is null
            ? Resource("_footer-security.txt")
            : Fill("_footer", Resource("_footer.txt"), new Dictionary<string, string> { ["unsubscribe"] = unsubscribeUrl, ["preferences"] = preferencesUrl });

    /// <summary>The footer of a mail to an address with no account behind it (an invitation): nothing to unsubscribe from.</summary>
    public string AddressFooter() => Resource("_footer-address.txt");

    private Template Get(string template) =>
        parsed.TryGetValue(template, out var parts) ? parts : throw new InvalidOperationException($"No mail template {template}.txt.");

    private static Template Parse(string name, string source)
    {
        foreach (Match m in Placeholder().Matches(source))
        {
            if (TypedText.Contains(m.Groups[1].Value) && !(m.Index > 0 && source[m.Index - 1] == '“' && m.Index + m.Length < source.Length && source[m.Index + m.Length] == '”'))
            {
                throw new InvalidOperationException($"Template {name} puts {m.Value} unquoted: text people typed goes in a mail only as “{m.Value}”.");
            }
        }
        var separator = source.IndexOf("\n---\n", StringComparison.Ordinal);
        var header = source[..separator].Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
        return new Template(
            header.GetValueOrDefault("subject") ?? throw new InvalidOperationException($"Template {name} has no subject."),
            header.GetValueOrDefault("summary") ?? "",
            source[(separator + 5)..].TrimEnd('\n'),
            Placeholder().Matches(source).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal));
    }

    private string Resource(string name) =>
        resources.TryGetValue(name, out var text) ? text : throw new InvalidOperationException($"No mail template {name}.");

    private static string Fill(string template, string text, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new InvalidOperationException($"Template {template} needs a value for {{{{{m.Groups[1].Value}}}}}."));

    /// <summary>Plain text to HTML: escaped, paragraphs kept, lines that are links made clickable.</summary>
    internal static string ToHtml(string text)
    {
        var html = new StringBuilder();
        foreach (var paragraph in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = paragraph.Trim('\n').Split('\n').Select(line => Url().Replace(WebUtility.HtmlEncode(line),
                m => $"<a href=\"{m.Value}\" style=\"color:#0d6efd\">{m.Value}</a>"));
            html.Append("<p>").AppendJoin("<br>\n", lines).Append("</p>\n");
        }
        return html.ToString();
    }

    [GeneratedRegex(@"\{\{([a-z]+)\}\}")]
    private static partial Regex Placeholder();

    // Applied to escaped text: stops at whitespace and at the entity of a quote or angle bracket.
    [GeneratedRegex(@"https?://[^\s<>""]+?(?=&quot;|&lt;|&gt;|&#39;|[\s)]|$)")]
    private static partial Regex Url();
}
