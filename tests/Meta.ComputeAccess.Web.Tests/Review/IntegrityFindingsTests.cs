using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>
/// The four findings of the review-integrity probe, each reproduced through the real pages: blind review that stays
/// blind, a timeline that never names a reviewer, consent before anyone is put on a team, and mail that carries what
/// applicants typed only as one quoted, inert line.
/// </summary>
public sealed partial class IntegrityFindingsTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task A_double_blind_bids_page_answers_the_same_list_whatever_collaborator_email_is_posted()
    {
        var s = await steps.ClosedCallAsync("blind-bids", "kenji.author@cove.example.edu", "Cove University", mode: ReviewMode.DoubleBlind);
        var reviewer = await steps.ReviewerAsync(s, "curious@tokai.example.ac.jp", "Tokai");
        var url = $"/Reviews/{s.Slug}/Bids";
        var before = Listed(await reviewer.GetPageAsync(url));
        Assert.Equal(["Proposal 1 of blind-bids"], before);

        // An address with no account and the address of the proposal's author: the same answer and the same list.
        var answers = new List<(string Flash, IReadOnlyList<string> Proposals, IReadOnlyList<string> Collaborators, string Html)>();
        foreach (var email in new[] { "nobody@nowhere.example.org", "kenji.author@cove.example.edu" })
        {
            using (var posted = await reviewer.PostFormAsync(url, new Dictionary<string, string> { ["CollaboratorEmail"] = email }, url + "?handler=Collaborator"))
            {
                Assert.True(posted.StatusCode == HttpStatusCode.Redirect, $"{email}: {ReviewSteps.ProblemOf(await posted.Content.ReadAsStringAsync())}");
            }
            var page = await reviewer.GetPageAsync(url);
            answers.Add((Flash(page), Listed(page), Collaborators(page), page));
        }
        Assert.Equal(answers[0].Flash, answers[1].Flash);
        Assert.Equal(before, answers[0].Proposals);
        Assert.Equal(before, answers[1].Proposals);
        // The list is what the reviewer typed, never an account's name.
        Assert.Equal(["nobody@nowhere.example.org"], answers[0].Collaborators);
        Assert.Equal(["kenji.author@cove.example.edu", "nobody@nowhere.example.org"], answers[1].Collaborators);
        Assert.DoesNotContain("kenji.author &lt;", answers[1].Html, StringComparison.Ordinal);

        // Declared, the collaborator still counts: at assignment the reviewer cannot be given the author's proposal.
        await ReviewSteps.ScreenPassAsync(s, s.Proposals[0]);
        await using var db = factory.NewDbContext();
        var reviewerId = await db.Users.Where(u => u.Email == "curious@tokai.example.ac.jp").Select(u => u.Id).SingleAsync();
        using var assigned = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment",
            new Dictionary<string, string> { ["proposalId"] = s.Proposals[0].ToString(), ["reviewerId"] = reviewerId.ToString() }, $"/Admin/Calls/{s.Slug}/Assignment?handler=Assign");
        Assert.Equal(HttpStatusCode.OK, assigned.StatusCode);
        Assert.Contains("conflict of interest", ReviewSteps.ProblemOf(await assigned.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.False(await db.Reviews.AnyAsync(r => r.ReviewerUserId == reviewerId));
    }

    [Fact]
    public async Task The_timeline_never_names_a_reviewer_whatever_the_team_calls_itself()
    {
        var (s, id, kenji, _) = await steps.InReviewAsync("named-timeline", "impostor@cove.example.edu", "Cove University",
            "kenji.watanabe@tokai.example.ac.jp", "second@north.example.edu");
        using (var submitted = await kenji.PostFormAsync($"/Reviews/Review/{id}", ReviewSteps.CompleteReview(s, "A careful plan; the baselines are solid."), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }

        // The PI takes the reviewer's name.
        using var pi = new PortalClient(factory);
        await pi.SignInAsync("impostor@cove.example.edu");
        using (var renamed = await pi.PostFormAsync("/Account/Profile", new Dictionary<string, string>
        {
            ["Input.FullName"] = "kenji.watanabe", ["Input.Institution"] = "Cove University", ["Input.Country"] = "GB", ["Input.TimeZoneId"] = "UTC",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, renamed.StatusCode);
        }

        var timeline = Timeline(await pi.GetPageAsync($"/Proposals/Details/{id}"));
        Assert.Contains(timeline, l => l.Reason.StartsWith("Review submitted", StringComparison.Ordinal));
        Assert.All(timeline.Where(l => l.Reason.StartsWith("Review", StringComparison.Ordinal)), l => Assert.Null(l.Actor));
        // The team's own steps are still named: by the id of who took them, not by a name.
        Assert.Contains(timeline, l => l.Reason == "Submitted" && l.Actor == "kenji.watanabe");
    }

    [Fact]
    public async Task An_invitation_to_a_confirmed_account_adds_nobody_until_accepted()
    {
        var call = await factory.CreateOpenCallAsync("consent-call");
        await factory.CreateUserAsync("pi@consent.example.edu");
        var target = await factory.CreateUserAsync("rosa.reviewer@north.example.edu", [Roles.Reviewer, Roles.Researcher], "North");
        using var pi = new PortalClient(factory);
        await pi.SignInAsync("pi@consent.example.edu");
        var first = await DraftAsync(pi, call.Slug, "Consent first");
        var second = await DraftAsync(pi, call.Slug, "Consent second");

        // An existing account and an address nobody registered get the same answer.
        var flashes = new List<string>();
        foreach (var email in new[] { "rosa.reviewer@north.example.edu", "brand.new@example.edu" })
        {
            using (var invited = await pi.PostFormAsync($"/Proposals/Team/{first}", new Dictionary<string, string> { ["Email"] = email }, $"/Proposals/Team/{first}?handler=Invite"))
            {
                Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
            }
            flashes.Add(Flash(await pi.GetPageAsync($"/Proposals/Team/{first}")).Replace(email, "{email}", StringComparison.Ordinal));
        }
        Assert.Equal(flashes[0], flashes[1]);
        await using var db = factory.NewDbContext();
        Assert.Equal(2, await db.ProposalMembers.CountAsync(m => m.ProposalId == first && m.UserId == null));
        Assert.False(await db.ProposalMembers.AnyAsync(m => m.UserId == target.Id));

        // The invitee hears of it (notice and mail), and sees nothing of the draft.
        Assert.True(await db.Notifications.AnyAsync(n => n.UserId == target.Id && n.Kind == NotificationKinds.CoInvestigatorInvited));
        Assert.True(await db.OutboxMessages.AnyAsync(m => m.ToAddress == "rosa.reviewer@north.example.edu" && m.Kind == NotificationKinds.CoInvestigatorInvited));
        using var rosa = new PortalClient(factory);
        await rosa.SignInAsync("rosa.reviewer@north.example.edu");
        Assert.DoesNotContain("Consent first", await rosa.GetPageAsync("/Proposals"), StringComparison.Ordinal);
        await ReviewSteps.AssertNotFoundAsync(rosa, $"/Proposals/Details/{first}", $"/Proposals/Edit/{first}", $"/Proposals/Team/{first}");

        // Accepted, she is on the team; declined, she is not, and the invitation is gone.
        using (var invited = await pi.PostFormAsync($"/Proposals/Team/{second}", new Dictionary<string, string> { ["Email"] = "rosa.reviewer@north.example.edu" }, $"/Proposals/Team/{second}?handler=Invite"))
        {
            Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
        }
        var invitations = await rosa.GetPageAsync("/Proposals/Invitations");
        Assert.Contains("Consent first", invitations, StringComparison.Ordinal);
        Assert.Contains("Consent second", invitations, StringComparison.Ordinal);
        var firstInvitation = await db.ProposalMembers.Where(m => m.ProposalId == first && m.InvitedEmailNormalized == "ROSA.REVIEWER@NORTH.EXAMPLE.EDU").Select(m => m.Id).SingleAsync();
        var secondInvitation = await db.ProposalMembers.Where(m => m.ProposalId == second && m.InvitedEmailNormalized == "ROSA.REVIEWER@NORTH.EXAMPLE.EDU").Select(m => m.Id).SingleAsync();
        using (var accepted = await rosa.PostFormAsync("/Proposals/Invitations", new Dictionary<string, string>(), $"/Proposals/Invitations?handler=Accept&memberId={firstInvitation}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }
        using (var declined = await rosa.PostFormAsync("/Proposals/Invitations", new Dictionary<string, string>(), $"/Proposals/Invitations?handler=Decline&memberId={secondInvitation}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declined.StatusCode);
        }
        Assert.Contains("Consent first", await rosa.GetPageAsync($"/Proposals/Details/{first}"), StringComparison.Ordinal);
        await ReviewSteps.AssertNotFoundAsync(rosa, $"/Proposals/Details/{second}");
        Assert.Equal(target.Id, await db.ProposalMembers.Where(m => m.Id == firstInvitation).Select(m => m.UserId).SingleAsync());
        Assert.False(await db.ProposalMembers.AnyAsync(m => m.Id == secondInvitation));
    }

    [Fact]
    public async Task A_title_with_line_breaks_and_a_url_reaches_the_invitation_mail_as_one_quoted_line_and_no_link()
    {
        var call = await factory.CreateOpenCallAsync("mail-title-call");
        await factory.CreateUserAsync("pi@mail-title.example.edu");
        await factory.CreateUserAsync("member@elsewhere.example.org");
        using var pi = new PortalClient(factory);
        await pi.SignInAsync("pi@mail-title.example.edu");
        var titles = new[]
        {
            "Open speech models\r\nSECURITY NOTICE: your portal account is locked.\nVerify it now at https://evil.example/verify",
            "Open speech models, results at https://evil.example/verify and www.evil.example",
        };
        foreach (var (title, i) in titles.Select((t, i) => (t, i)))
        {
            var id = await DraftAsync(pi, call.Slug, "Working title");
            await using (var db = factory.NewDbContext())
            {
                var version = await db.Proposals.Where(p => p.Id == id).Select(p => p.Version).SingleAsync();
                var form = TestCalls.CompleteForm(call, version);
                form["Input.Title"] = title;
                using var saved = await pi.PostFormAsync($"/Proposals/Edit/{id}", form, $"/Proposals/Edit/{id}?handler=Save");
                Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
            }
            // Both ways a co-investigator is invited: an address without an account, and an account's address.
            foreach (var email in new[] { $"stranger{i}@elsewhere.example.org", "member@elsewhere.example.org" })
            {
                using var invited = await pi.PostFormAsync($"/Proposals/Team/{id}", new Dictionary<string, string> { ["Email"] = email }, $"/Proposals/Team/{id}?handler=Invite");
                Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
            }
        }

        await using var check = factory.NewDbContext();
        var mails = await check.OutboxMessages.AsNoTracking().Where(m => m.Kind == NotificationKinds.CoInvestigatorInvited && m.ToAddress.EndsWith("@elsewhere.example.org")).ToListAsync();
        Assert.Equal(4, mails.Count);
        foreach (var mail in mails)
        {
            Assert.DoesNotContain('\n', mail.Subject);
            Assert.DoesNotContain("SECURITY NOTICE", mail.TextBody, StringComparison.Ordinal);
            Assert.DoesNotContain("evil.example", mail.TextBody, StringComparison.Ordinal);
            Assert.DoesNotContain("evil.example", mail.HtmlBody, StringComparison.Ordinal);
            Assert.DoesNotMatch("<a [^>]*href=\"[^\"]*evil", mail.HtmlBody);
            // The title is one quoted line: the first line of the first title, the whole of the second (made inert).
            var quoted = QuotedTitle().Matches(mail.TextBody).Select(m => Visible(m.Groups[1].Value)).ToList();
            Assert.True(quoted.Contains("Open speech models") || quoted.Contains(titles[1]), "quoted: " + string.Join(" | ", quoted));
            // The portal's own link is still a link.
            Assert.Contains("href=\"http://localhost/", mail.HtmlBody, StringComparison.Ordinal);
        }
    }

    private static async Task<Guid> DraftAsync(PortalClient client, string slug, string title)
    {
        using var created = await client.PostFormAsync($"/Proposals/Create?call={slug}", new Dictionary<string, string> { ["call"] = slug, ["Title"] = title });
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        return Guid.Parse(GuidPattern().Match(created.Headers.Location!.OriginalString).Value);
    }

    /// <summary>The titles in a bids page's proposal list.</summary>
    private static List<string> Listed(string html) =>
        [.. BidTitle().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))];

    private static List<string> Collaborators(string html) =>
        [.. CollaboratorItem().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value.Trim())).Order(StringComparer.Ordinal)];

    private static string Flash(string html) => WebUtility.HtmlDecode(FlashMessage().Match(html).Groups[1].Value);

    private static List<(string Reason, string? Actor)> Timeline(string html) =>
        [.. TimelineLine().Matches(html).Select(m => (WebUtility.HtmlDecode(m.Groups[1].Value), m.Groups[2].Success ? WebUtility.HtmlDecode(m.Groups[2].Value) : null))];

    /// <summary>The text as a reader sees it: zero-width characters that keep mail clients from making links are not seen.</summary>
    private static string Visible(string text) => text.Replace("\u200B", "", StringComparison.Ordinal);

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();

    [GeneratedRegex("<h3 class=\"h6\">([^<]*)</h3>")]
    private static partial Regex BidTitle();

    [GeneratedRegex("<span class=\"collaborator\">([^<]*)</span>")]
    private static partial Regex CollaboratorItem();

    [GeneratedRegex("<div class=\"alert alert-success\" role=\"status\">([^<]*)</div>")]
    private static partial Regex FlashMessage();

    [GeneratedRegex("<strong>([^<]*)</strong>(?: (?:·|&#xB7;) ([^<]*))?</div>")]
    private static partial Regex TimelineLine();

    [GeneratedRegex("“([^”\n]*)”")]
    private static partial Regex QuotedTitle();
}
