using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Terms;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Terms;

/// <summary>Versioned terms of use (asked before anything else), and a call's award terms accepted with the award.</summary>
public sealed class TermsTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    internal static Task<HttpResponseMessage> PublishAsync(PortalClient admin, string text, string summary = "", Guid? callId = null)
    {
        var page = callId is null ? "/Admin/Terms" : $"/Admin/Terms?callId={callId}";
        return admin.PostFormAsync(page, new Dictionary<string, string> { ["Input.Text"] = text, ["Input.Summary"] = summary },
            callId is null ? "/Admin/Terms?handler=Publish" : $"/Admin/Terms?handler=Publish&callId={callId}");
    }

    private static async Task<HttpResponseMessage> AcceptAsync(PortalClient user, Guid documentId, bool tick, string returnUrl = "")
    {
        var html = await user.GetPageAsync("/Account/Terms");
        var token = PortalClient.AntiforgeryToken(html)!;
        var fields = new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["documentId"] = documentId.ToString(), ["ReturnUrl"] = returnUrl };
        if (tick)
        {
            fields["accept"] = "true";
        }
        using var content = new FormUrlEncodedContent(fields);
        return await user.Http.PostAsync(new Uri("/Account/Terms", UriKind.Relative), content);
    }

    [Fact]
    public async Task Signed_in_users_accept_the_current_terms_of_use_before_anything_else_and_again_when_they_change()
    {
        await factory.CreateUserAsync("admin@terms-gate.example.org", [Roles.Admin, Roles.Researcher], "Program");
        await factory.CreateUserAsync("reader@terms-gate.example.edu");
        using var admin = new PortalClient(factory);
        await admin.SignInAsync("admin@terms-gate.example.org");
        using var reader = new PortalClient(factory);
        await reader.SignInAsync("reader@terms-gate.example.edu");

        using (var bad = await PublishAsync(admin, "short"))
        {
            Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.False(await db.TermsDocuments.AnyAsync(d => d.Kind == TermsKind.TermsOfUse));
        using (var published = await PublishAsync(admin, "Version one: use the compute only for the proposed research.", "First version"))
        {
            Assert.Equal(HttpStatusCode.Redirect, published.StatusCode);
        }
        var v1 = await db.TermsDocuments.AsNoTracking().SingleAsync(d => d.Kind == TermsKind.TermsOfUse);
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "terms.published"));

        // Every page of the portal answers with the terms page first, and a form post is not carried out.
        using (var sent = await reader.GetAsync("/Proposals?x=1"))
        {
            Assert.Equal(HttpStatusCode.Found, sent.StatusCode);
            Assert.Equal("/Account/Terms?returnUrl=%2FProposals%3Fx%3D1", sent.Headers.Location!.OriginalString);
        }
        using (var post = await reader.Http.PostAsync(new Uri("/Account/Profile", UriKind.Relative), new FormUrlEncodedContent([])))
        {
            Assert.Equal(HttpStatusCode.SeeOther, post.StatusCode);
        }
        // The dashboard, open to visitors, is a page like the others for a signed-in user; left alone: the terms page, static files, health.
        using (var dashboard = await reader.GetAsync("/"))
        {
            Assert.StartsWith("/Account/Terms", dashboard.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        Assert.Contains("Version one", await reader.GetPageAsync("/Account/Terms"), StringComparison.Ordinal);
        // Someone who does not accept can still take their data and leave: the account's own controls stay open.
        foreach (var own in new[] { "/Account/Security", "/Account/TwoFactor", "/Account/Close" })
        {
            using var response = await reader.GetAsync(own);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{own} answered {(int)response.StatusCode} {response.Headers.Location}");
        }
        using (var export = await reader.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export"))
        {
            Assert.Equal(HttpStatusCode.OK, export.StatusCode);
            Assert.Equal("application/json", export.Content.Headers.ContentType?.MediaType);
        }
        foreach (var open in new[] { "/health/live", "/css/site.css" })
        {
            using var response = await reader.GetAsync(open);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{open} answered {(int)response.StatusCode} {response.Headers.Location}");
        }

        // Not ticked: nothing recorded. Ticked: recorded once, and back where the user was going (a foreign address is ignored).
        using (var unticked = await AcceptAsync(reader, v1.Id, tick: false, "/Proposals"))
        {
            Assert.Equal(HttpStatusCode.OK, unticked.StatusCode);
        }
        Assert.False(await db.TermsAcceptances.AnyAsync());
        using (var accepted = await AcceptAsync(reader, v1.Id, tick: true, "/Proposals"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
            Assert.Equal("/Proposals", accepted.Headers.Location!.OriginalString);
        }
        await reader.GetPageAsync("/Proposals");
        var reader_ = await db.Users.Where(u => u.Email == "reader@terms-gate.example.edu").Select(u => u.Id).SingleAsync();
        Assert.Equal(v1.Id, (await db.TermsAcceptances.AsNoTracking().SingleAsync(a => a.UserId == reader_)).DocumentId);
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "terms.accepted" && a.ActorUserId == reader_));

        // The admin accepts too, then publishes version 2 from the page prefilled with version 1: everyone is asked again.
        using (var adminAccepts = await AcceptAsync(admin, v1.Id, tick: true, "https://evil.example.com/"))
        {
            Assert.Equal("/", adminAccepts.Headers.Location!.OriginalString);
        }
        Assert.Contains("Version one", await admin.GetPageAsync("/Admin/Terms"), StringComparison.Ordinal);
        using (var second = await PublishAsync(admin, "Version two: also acknowledge the program in publications.", "Acknowledgement added"))
        {
            Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        }
        using (var again = await reader.GetAsync("/Proposals"))
        {
            Assert.StartsWith("/Account/Terms", again.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        var changed = WebUtility.HtmlDecode(await reader.GetPageAsync("/Account/Terms"));
        Assert.Contains("The terms of use changed since you accepted them (Acknowledgement added)", changed, StringComparison.Ordinal);
        // A page of version 1 left open cannot accept version 2.
        using (var stale = await AcceptAsync(reader, v1.Id, tick: true))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("changed while you read them", WebUtility.HtmlDecode(await stale.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        // Version 1 is kept as it was, and a published version cannot be edited, even in SQL.
        Assert.Equal([(1, v1.TextMarkdown), (2, "Version two: also acknowledge the program in publications.")],
            (await db.TermsDocuments.AsNoTracking().Where(d => d.Kind == TermsKind.TermsOfUse).OrderBy(d => d.Version).Select(d => new { d.Version, d.TextMarkdown }).ToListAsync()).Select(d => (d.Version, d.TextMarkdown)));
        Assert.Contains("append-only", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlRawAsync("UPDATE terms_documents SET text_markdown = 'edited'"))).MessageText, StringComparison.Ordinal);
        Assert.Contains("append-only", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlRawAsync("DELETE FROM terms_acceptances"))).MessageText, StringComparison.Ordinal);

        // The reader's download of their data lists the version they accepted, as it read then (the gate lets them download it).
        using (var export = await reader.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export"))
        {
            Assert.Equal(HttpStatusCode.OK, export.StatusCode);
            using var json = System.Text.Json.JsonDocument.Parse(await export.Content.ReadAsStringAsync());
            var accepted = Assert.Single(json.RootElement.GetProperty("consents").GetProperty("termsAccepted").EnumerateArray());
            Assert.Equal(("TermsOfUse", 1, v1.TextMarkdown), (accepted.GetProperty("kind").GetString(), accepted.GetProperty("version").GetInt32(), accepted.GetProperty("text").GetString()));
            Assert.Empty(json.RootElement.GetProperty("consents").GetProperty("awardConditionsAccepted").EnumerateArray());
        }

        // Admins are asked for version 2 like everyone, then see who accepted which version.
        using (var listed = await admin.GetAsync("/Admin/Terms"))
        {
            Assert.StartsWith("/Account/Terms", listed.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        var v2 = await db.TermsDocuments.Where(d => d.Kind == TermsKind.TermsOfUse && d.Version == 2).Select(d => d.Id).SingleAsync();
        using (await AcceptAsync(admin, v2, tick: true))
        {
        }
        var admins = WebUtility.HtmlDecode(await admin.GetPageAsync("/Admin/Terms"));
        Assert.Contains("reader@terms-gate.example.edu", admins, StringComparison.Ordinal);
        Assert.Contains("accepted by 1 user", admins, StringComparison.Ordinal);
    }
}
