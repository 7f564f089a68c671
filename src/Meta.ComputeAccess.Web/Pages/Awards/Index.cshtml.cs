using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Reports;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Awards;

/// <summary>
/// <c>/Awards</c>, for anyone: the awards whose PI agreed to a public listing, filtered by call, field and cluster,
/// also as CSV (<c>?handler=Csv</c>), JSON (<c>?handler=Json</c>) and an Atom feed of new awards (<c>?handler=Feed</c>).
/// Cacheable by shared caches when the reader is not signed in (the page then carries nothing personal).
/// </summary>
[AllowAnonymous]
public sealed class IndexModel(PublicAwards awards, Notifier notifier, Microsoft.Extensions.Options.IOptions<Meta.ComputeAccess.Clusters.ChargeUnitOptions> unit) : PageModel
{
    /// <summary>How long a shared cache may keep an anonymous answer.</summary>
    public const int CacheSeconds = 300;

    [FromQuery(Name = "call")]
    public string? Call { get; set; }

    [FromQuery(Name = "field")]
    public string? Field { get; set; }

    [FromQuery(Name = "cluster")]
    public string? Cluster { get; set; }

    public IReadOnlyList<PublicAward> Awards { get; private set; } = [];

    public IReadOnlyList<(string Slug, string Title)> Calls { get; private set; } = [];

    public IReadOnlyList<string> Fields { get; private set; } = [];

    public IReadOnlyList<(string Slug, string Name)> Clusters { get; private set; } = [];

    private AwardFilter Filter => new(Call, Field, Cluster);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Cacheable();
        (Calls, Fields, Clusters) = await awards.ChoicesAsync(cancellationToken);
        Awards = await awards.ListAsync(Filter, cancellationToken: cancellationToken);
    }

    public async Task<IActionResult> OnGetCsvAsync(CancellationToken cancellationToken)
    {
        Cacheable();
        var csv = new StringBuilder("id,title,pi,institution,field,call,accepted_at_utc,cluster,granted_gpu_hours,used_gpu_hours,summary,outputs\n");
        foreach (var a in await awards.ListAsync(Filter, cancellationToken: cancellationToken))
        {
            var outputs = string.Join(" ", a.Outputs.Select(o => o.Link));
            foreach (var h in a.Hours.DefaultIfEmpty())
            {
                csv.Append(CultureInfo.InvariantCulture, $"{a.Id},{Csv.Escape(a.Title)},{Csv.Escape(a.Pi)},{Csv.Escape(a.Institution)},{Csv.Escape(a.Field)},{Csv.Escape(a.Call)},")
                    .Append(a.AcceptedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Append(',')
                    .Append(Csv.Escape(h?.Cluster)).Append(',').Append(h?.Granted.ToString("0.######", CultureInfo.InvariantCulture)).Append(',')
                    .Append(h?.Used?.ToString("0.######", CultureInfo.InvariantCulture)).Append(',')
                    .Append(Csv.Escape(a.Summary)).Append(',').Append(Csv.Escape(outputs)).Append('\n');
            }
        }
        return File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", "awards.csv");
    }

    public async Task<IActionResult> OnGetJsonAsync(CancellationToken cancellationToken)
    {
        Cacheable();
        var list = await awards.ListAsync(Filter, cancellationToken: cancellationToken);
        return new JsonResult(list.Select(a => new
        {
            a.Id, a.Title, a.Pi, a.Institution, a.Field, a.Call, a.CallSlug, a.AcceptedAt, a.Summary,
            Hours = a.Hours.Select(h => new { h.Cluster, h.ClusterSlug, h.Granted, h.Used }),
            Outputs = a.Outputs.Select(o => new { Kind = o.Kind.ToString(), o.Title, o.Link, o.Doi, o.Licence }),
        }), new JsonSerializerOptions(JsonSerializerDefaults.Web));
    }

    /// <summary>An Atom feed (RFC 4287) of the newest awards, each linking to its entry on the page.</summary>
    public async Task<IActionResult> OnGetFeedAsync(CancellationToken cancellationToken)
    {
        Cacheable();
        var list = await awards.ListAsync(Filter, PublicAwards.FeedEntries, cancellationToken);
        var page = notifier.AbsoluteUrl("/Awards");
        var text = new StringBuilder();
        using (var xml = XmlWriter.Create(text, new XmlWriterSettings { Indent = true, Encoding = Encoding.UTF8 }))
        {
            const string atom = "http://www.w3.org/2005/Atom";
            xml.WriteStartElement("feed", atom);
            xml.WriteElementString("title", atom, "Meta Compute Access: awards");
            xml.WriteElementString("id", atom, page);
            xml.WriteElementString("updated", atom, Iso(list.Count > 0 ? list[0].AcceptedAt : DateTimeOffset.UnixEpoch));
            Link(xml, atom, page, "alternate");
            Link(xml, atom, notifier.AbsoluteUrl("/Awards?handler=Feed"), "self");
            foreach (var a in list)
            {
                xml.WriteStartElement("entry", atom);
                xml.WriteElementString("title", atom, a.Title);
                xml.WriteElementString("id", atom, $"urn:uuid:{a.Id}");
                xml.WriteElementString("updated", atom, Iso(a.AcceptedAt));
                Link(xml, atom, $"{page}#award-{a.Id}", "alternate");
                xml.WriteStartElement("author", atom);
                xml.WriteElementString("name", atom, $"{a.Pi}, {a.Institution}");
                xml.WriteEndElement();
                xml.WriteElementString("summary", atom,
                    $"{a.Summary} ({a.Field}; {string.Join(", ", a.Hours.Select(h => $"{h.Granted.AsHours()} {unit.Value.Plural} on {h.Cluster}"))}; {a.Call})");
                xml.WriteEndElement();
            }
            xml.WriteEndElement();
        }
        return Content(text.ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"", StringComparison.Ordinal), "application/atom+xml; charset=utf-8");
    }

    private static void Link(XmlWriter xml, string ns, string href, string rel)
    {
        xml.WriteStartElement("link", ns);
        xml.WriteAttributeString("rel", rel);
        xml.WriteAttributeString("href", href);
        xml.WriteEndElement();
    }

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Anyone's answer is the same: shared caches may keep it. A signed-in reader's page names them, and a reader with
    /// cookies may have a flash message to see and clear, so those answers stay private; for everyone else the layout
    /// leaves the flash messages alone (reading them would answer with a cookie, which a cache does not store).
    /// </summary>
    private void Cacheable()
    {
        if (User.Identity?.IsAuthenticated == true || Request.Cookies.Count > 0)
        {
            Response.Headers.CacheControl = "private, no-cache";
            return;
        }
        ViewData["Cacheable"] = true;
        Response.Headers.CacheControl = $"public, max-age={CacheSeconds}";
    }
}
