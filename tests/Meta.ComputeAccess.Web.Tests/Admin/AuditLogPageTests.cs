using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;

namespace Meta.ComputeAccess.Web.Tests.Admin;

public sealed partial class AuditLogPageTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Older_entries_link_pages_through_the_filtered_log_to_its_first_entry()
    {
        var admin = await factory.CreateUserAsync("auditor@program.example.org", [Roles.Admin]);
        await using (var db = factory.NewDbContext())
        {
            var at = factory.Clock.GetUtcNow();
            // 150 entries the filter keeps, interleaved with others it must leave out on every page.
            for (var i = 1; i <= 150; i++)
            {
                db.AuditEntries.Add(AuditEntry.Create(at, admin.Id, "paging.kept", "test", "1", $"Kept entry #{i:000}"));
                db.AuditEntries.Add(AuditEntry.Create(at, admin.Id, "other.entry", "test", "1", $"Other entry #{i:000}"));
            }
            await db.SaveChangesAsync();
        }
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        var first = await client.GetPageAsync("/Admin/Audit?action=paging.");
        Assert.Equal(100, KeptIn(first).Count);
        Assert.Contains("Kept entry #150", first, StringComparison.Ordinal);
        Assert.DoesNotContain("Other entry", first, StringComparison.Ordinal);

        var older = OlderLink(first) ?? throw new InvalidOperationException("The first page has no link to older entries.");
        var second = await client.GetPageAsync(older);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"Kept entry #{i:000}").Reverse(), KeptIn(second));
        Assert.DoesNotContain("Other entry", second, StringComparison.Ordinal);
        // The last page has nothing older to offer.
        Assert.Null(OlderLink(second));
    }

    [Fact]
    public async Task A_page_before_any_entry_id_answers_without_error()
    {
        var admin = await factory.CreateUserAsync("auditor2@program.example.org", [Roles.Admin]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        foreach (var before in new[] { "1", "0", "-5", "9223372036854775807", "not-a-number" })
        {
            using var response = await client.GetAsync($"/Admin/Audit?before={before}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Contains("No entries match.", await client.GetPageAsync("/Admin/Audit?before=1"), StringComparison.Ordinal);
    }

    private static List<string> KeptIn(string html) => [.. KeptPattern().Matches(html).Select(m => m.Value)];

    private static string? OlderLink(string html) =>
        OlderPattern().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : null;

    [GeneratedRegex("Kept entry #\\d{3}")]
    private static partial Regex KeptPattern();

    [GeneratedRegex("<a [^>]*href=\"([^\"]+)\"[^>]*>Older entries</a>")]
    private static partial Regex OlderPattern();
}
