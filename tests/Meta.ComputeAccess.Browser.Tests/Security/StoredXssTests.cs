using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Security;

public sealed class StoredXssTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    private const string Payload = """
        Plain **bold** text.

        <script>window.__xss = 'script tag';</script>
        <img src="x" onerror="window.__xss = 'onerror'">
        [click me](javascript:window.__xss='javascript link')
        <a href="javascript:window.__xss='raw link'">raw</a>
        <svg onload="window.__xss='svg'"></svg>
        """;

    [Fact]
    public async Task Markdown_from_users_renders_without_running_any_script()
    {
        var call = await portal.CreateOpenCallAsync("xss-call");
        var owner = await portal.CreateUserAsync("xss@example.edu");
        await using (var db = portal.NewDbContext())
        {
            var dbCall = await db.Calls.SingleAsync(c => c.Id == call.Id);
            var proposal = Proposal.StartDraft(dbCall, owner.Id, "Hostile abstract", portal.Clock.GetUtcNow());
            proposal.UpdateDraft(new ProposalContent("Hostile abstract", Payload, ["xss"], "Other", "", null, "", null, "", "", PlannedOutputs.None, "", [], null, ""), dbCall, portal.Clock.GetUtcNow());
            db.Proposals.Add(proposal);
            // The call description is Markdown from an admin, rendered to every researcher: same rules.
            dbCall.SetTexts(dbCall.Title, Payload, "");
            await db.SaveChangesAsync();
        }
        var (page, csp) = await portal.NewPageAsync();
        var dialogs = 0;
        page.Dialog += async (_, d) => { dialogs++; await d.DismissAsync(); };
        await BrowserFixture.SignInAsync(page, "xss@example.edu");

        await using var check = portal.NewDbContext();
        var id = await check.Proposals.Where(p => p.Title == "Hostile abstract").Select(p => p.Id).SingleAsync();
        foreach (var url in new[] { $"/Proposals/Details/{id}", $"/Calls/Details/{call.Slug}" })
        {
            await page.GotoAsync(url);
            await Expect(page.GetByText("bold", new() { Exact = true }).First).ToBeVisibleAsync();
            // The hostile links' text is still shown; click every link the Markdown produced: none may run script.
            await Expect(page.GetByText("click me").First).ToBeVisibleAsync();
            foreach (var link in await page.Locator(".markdown a").AllAsync())
            {
                var href = await link.GetAttributeAsync("href");
                Assert.False(href?.StartsWith("javascript:", StringComparison.OrdinalIgnoreCase) ?? false, $"javascript: link survived on {url}");
                await link.ClickAsync();
                if (!page.Url.EndsWith(url, StringComparison.Ordinal))
                {
                    await page.GotoAsync(url);
                }
            }
            Assert.Equal(0, await page.Locator(".markdown script, .markdown [onerror], .markdown [onload], .markdown svg").CountAsync());
            Assert.Null(await page.EvaluateAsync<string?>("() => window.__xss ?? null"));
        }
        Assert.Equal(0, dialogs);
        Assert.Empty(csp);
    }
}
