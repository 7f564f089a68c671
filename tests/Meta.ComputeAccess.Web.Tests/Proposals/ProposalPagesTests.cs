using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Proposals;

public sealed partial class ProposalPagesTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private async Task<(PortalClient Client, Guid ProposalId, TestCalls.OpenCall Call)> DraftAsync(string slug, string piEmail, TimeSpan? closesIn = null)
    {
        var call = await factory.CreateOpenCallAsync(slug, closesIn);
        await factory.CreateUserAsync(piEmail);
        var client = new PortalClient(factory);
        await client.SignInAsync(piEmail);
        using var created = await client.PostFormAsync($"/Proposals/Create?call={slug}", new Dictionary<string, string> { ["call"] = slug, ["Title"] = "Working title" });
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var id = Guid.Parse(GuidPattern().Match(created.Headers.Location!.OriginalString).Value);
        return (client, id, call);
    }

    private async Task<uint> VersionAsync(Guid id)
    {
        await using var db = factory.NewDbContext();
        return await db.Proposals.Where(p => p.Id == id).Select(p => p.Version).SingleAsync();
    }

    [Fact]
    public async Task Submit_before_the_deadline_is_accepted_and_after_it_is_refused_with_the_reason()
    {
        var (client, id, call) = await DraftAsync("deadline-call", "early@example.edu", TimeSpan.FromMinutes(20));
        var form = TestCalls.CompleteForm(call, await VersionAsync(id));
        using (var saved = await client.PostFormAsync($"/Proposals/Edit/{id}", form, $"/Proposals/Edit/{id}?handler=Save"))
        {
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        }

        // Past the deadline by one second on the server clock: refused, and the proposal stays a draft.
        factory.Clock.Advance(call.ClosesAt - factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));
        using (var late = await client.PostFormAsync($"/Proposals/Details/{id}", TestCalls.CompleteForm(call, await VersionAsync(id)), $"/Proposals/Edit/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
            Assert.Contains("deadline has passed", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.Draft, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());

        var (client2, id2, call2) = await DraftAsync("deadline-call-2", "ontime@example.edu", TimeSpan.FromHours(2));
        using var onTime = await client2.PostFormAsync($"/Proposals/Edit/{id2}", TestCalls.CompleteForm(call2, await VersionAsync(id2)), $"/Proposals/Edit/{id2}?handler=Submit");
        Assert.Equal(HttpStatusCode.Redirect, onTime.StatusCode);
        var proposal = await db.Proposals.Include(p => p.History).AsNoTracking().SingleAsync(p => p.Id == id2);
        Assert.Equal(ProposalStatus.Submitted, proposal.Status);
        Assert.Equal(factory.Clock.GetUtcNow(), proposal.SubmittedAt);
        Assert.Equal(ProposalStatus.Submitted, proposal.History.OrderBy(h => h.Id).Last().ToStatus);
    }

    [Fact]
    public async Task Incomplete_submission_saves_the_draft_and_shows_messages_beside_the_fields()
    {
        var (client, id, call) = await DraftAsync("incomplete-call", "hasty@example.edu");
        var form = TestCalls.CompleteForm(call, await VersionAsync(id));
        form["Input.AbstractMarkdown"] = "Too short.";
        form.Remove("Input.UsesPersonalData");
        using var response = await client.PostFormAsync($"/Proposals/Edit/{id}", form, $"/Proposals/Edit/{id}?handler=Submit");
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Write an abstract of at least 100 characters", html, StringComparison.Ordinal);
        Assert.Contains("Say whether the work uses personal data", html, StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        var saved = await db.Proposals.AsNoTracking().SingleAsync(p => p.Id == id);
        Assert.Equal(ProposalStatus.Draft, saved.Status);
        Assert.Equal("Too short.", saved.AbstractMarkdown);
        // The form shown again carries the saved version, so fixing the fields and submitting again works.
        var shown = System.Text.RegularExpressions.Regex.Match(html, "name=\"Input.Version\" value=\"([0-9]+)\"").Groups[1].Value;
        Assert.Equal(saved.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), shown);
        using var again = await client.PostFormAsync($"/Proposals/Edit/{id}", TestCalls.CompleteForm(call, uint.Parse(shown, System.Globalization.CultureInfo.InvariantCulture)), $"/Proposals/Edit/{id}?handler=Submit");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
    }

    [Fact]
    public async Task Invited_coinvestigator_joins_after_registering_confirming_that_email_and_accepting_and_can_edit()
    {
        var (client, id, _) = await DraftAsync("team-call", "pi@example.edu");
        using (var invited = await client.PostFormAsync($"/Proposals/Team/{id}", new Dictionary<string, string> { ["Email"] = "newcomer@example.edu" }, $"/Proposals/Team/{id}?handler=Invite"))
        {
            Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var invitation = await db.OutboxMessages.SingleAsync(m => m.ToAddress == "newcomer@example.edu" && m.Kind == "coinvestigator.invited");
        Assert.Contains("http://localhost/Account/Register", invitation.TextBody, StringComparison.Ordinal);
        // Not a security message, and nothing to unsubscribe from: no account is behind the address.
        Assert.DoesNotContain("security message", invitation.TextBody, StringComparison.Ordinal);
        Assert.Contains("No account is linked to it", invitation.TextBody, StringComparison.Ordinal);

        // Registering with the address is not enough: joining waits for the confirmation link.
        using var newcomer = new PortalClient(factory);
        using (await newcomer.PostFormAsync("/Account/Register", new Dictionary<string, string>
        {
            ["Input.FullName"] = "New Comer", ["Input.Institution"] = "Elsewhere", ["Input.Country"] = "FR", ["Input.TimeZoneId"] = "Europe/Paris",
            ["Input.Email"] = "newcomer@example.edu", ["Input.Password"] = "a long enough passphrase", ["Input.ConfirmPassword"] = "a long enough passphrase",
        }))
        {
        }
        Assert.True(await db.ProposalMembers.AnyAsync(m => m.ProposalId == id && m.UserId == null));
        var mail = await db.OutboxMessages.SingleAsync(m => m.ToAddress == "newcomer@example.edu" && m.Kind == "account.confirm");
        var link = Regex.Match(mail.TextBody, @"http://localhost(/Account/ConfirmEmail\S+)").Groups[1].Value;
        Assert.Contains("1 invitation to join a proposal's team waits for you", await newcomer.GetPageAsync(link), StringComparison.Ordinal);

        // Confirming the address is not joining either: the newcomer accepts the invitation.
        await newcomer.SignInAsync("newcomer@example.edu", "a long enough passphrase");
        using (var early = await newcomer.GetAsync($"/Proposals/Edit/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, early.StatusCode);
        }
        var pending = await db.ProposalMembers.Where(m => m.ProposalId == id && m.UserId == null).Select(m => m.Id).SingleAsync();
        using (var accepted = await newcomer.PostFormAsync("/Proposals/Invitations", new Dictionary<string, string>(), $"/Proposals/Invitations?handler=Accept&memberId={pending}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }
        Assert.Contains("Edit proposal", await newcomer.GetPageAsync($"/Proposals/Edit/{id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Team_can_withdraw_a_submitted_proposal_with_a_reason_in_the_timeline()
    {
        var (client, id, call) = await DraftAsync("withdraw-call", "withdrawer@example.edu");
        using (await client.PostFormAsync($"/Proposals/Edit/{id}", TestCalls.CompleteForm(call, await VersionAsync(id)), $"/Proposals/Edit/{id}?handler=Submit"))
        {
        }
        using var withdrawn = await client.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string> { ["reason"] = "Funded elsewhere" }, $"/Proposals/Details/{id}?handler=Withdraw");
        Assert.Equal(HttpStatusCode.Redirect, withdrawn.StatusCode);
        var page = await client.GetPageAsync($"/Proposals/Details/{id}");
        Assert.Contains("withdrawn", page, StringComparison.Ordinal);
        Assert.Contains("Funded elsewhere", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_renamed_executable_is_refused_and_a_real_pdf_is_served_only_as_a_download()
    {
        var (client, id, _) = await DraftAsync("pdf-call", "uploader@example.edu");
        using (var exe = await UploadAsync(client, id, "report.pdf", [0x4D, 0x5A, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]))
        {
            Assert.Equal(HttpStatusCode.OK, exe.StatusCode);
            Assert.Contains("not a PDF", await exe.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var pdf = await UploadAsync(client, id, "plan.pdf", TestCalls.Pdf()))
        {
            Assert.Equal(HttpStatusCode.Redirect, pdf.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var attachment = await db.ProposalAttachments.AsNoTracking().SingleAsync(a => a.ProposalId == id);
        using var download = await client.GetAsync($"/Proposals/Attachment/{id}/{attachment.Id}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/pdf", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType ?? ContentDispositionHeaderValue.Parse(download.Headers.GetValues("Content-Disposition").Single()).DispositionType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(TestCalls.Pdf(), await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Another_researcher_gets_404_on_the_page_the_edit_handler_and_the_attachment()
    {
        var (owner, id, call) = await DraftAsync("private-call", "owner@example.edu");
        using (await UploadAsync(owner, id, "secret.pdf", TestCalls.Pdf("unpublished idea")))
        {
        }
        await using var db = factory.NewDbContext();
        var attachmentId = await db.ProposalAttachments.Where(a => a.ProposalId == id).Select(a => a.Id).SingleAsync();

        await factory.CreateUserAsync("snoop@example.edu");
        using var snoop = new PortalClient(factory);
        await snoop.SignInAsync("snoop@example.edu");
        foreach (var url in new[] { $"/Proposals/Details/{id}", $"/Proposals/Edit/{id}", $"/Proposals/Team/{id}", $"/Proposals/Attachments/{id}", $"/Proposals/Attachment/{id}/{attachmentId}", $"/Proposals/Details/{Guid.NewGuid()}" })
        {
            using var response = await snoop.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)response.StatusCode}");
        }

        // The edit handler with a valid antiforgery token from the snoop's own page: still 404, nothing changes.
        var token = PortalClient.AntiforgeryToken(await snoop.GetPageAsync("/Account/Profile"))!;
        var form = TestCalls.CompleteForm(call, 0);
        form["Input.Title"] = "Hijacked";
        form["__RequestVerificationToken"] = token;
        using var content = new FormUrlEncodedContent(form);
        using var post = await snoop.Http.PostAsync(new Uri($"/Proposals/Edit/{id}?handler=Save", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Equal("Working title", await db.Proposals.Where(p => p.Id == id).Select(p => p.Title).SingleAsync());
    }

    private static async Task<HttpResponseMessage> UploadAsync(PortalClient client, Guid id, string name, byte[] bytes)
    {
        var token = PortalClient.AntiforgeryToken(await client.GetPageAsync($"/Proposals/Attachments/{id}"))!;
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(token), "__RequestVerificationToken");
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", name);
        return await client.Http.PostAsync(new Uri($"/Proposals/Attachments/{id}?handler=Upload", UriKind.Relative), form);
    }

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();
}
