using System.Globalization;
using System.Net;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>The applicants' right to reply through the real pages: /Admin/Calls/{slug}/Ranking opens it, /Proposals/Response/{id} takes it, /Reviews/Review/{id} revises.</summary>
public sealed class ResponsePhaseTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    /// <summary>Two proposals of one PI, each reviewed by "one@…" (overall 7) and "two@…" (overall 5).</summary>
    private async Task<(ReviewSteps.Setup S, PortalClient One, PortalClient Two, PortalClient Pi)> ReviewedAsync(string slug)
    {
        var s = await steps.ClosedCallAsync(slug, $"pi@{slug}.example.edu", "Reply University", count: 2);
        var one = await steps.ReviewerAsync(s, $"one@{slug}.tokai.example.ac.jp", "Tokai");
        var two = await steps.ReviewerAsync(s, $"two@{slug}.north.example.edu", "North");
        foreach (var id in s.Proposals)
        {
            await ReviewSteps.ScreenPassAsync(s, id);
            await steps.AssignAsync(s, id, $"one@{slug}.tokai.example.ac.jp");
            await steps.AssignAsync(s, id, $"two@{slug}.north.example.edu");
            foreach (var (client, overall) in new[] { (one, 7), (two, 5) })
            {
                using var r = await client.PostFormAsync($"/Reviews/Review/{id}", ReviewSteps.CompleteReview(s, $"Reviewer scoring {overall} says: sharpen the evaluation plan.", overall), $"/Reviews/Review/{id}?handler=Submit");
                Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
            }
        }
        var pi = new PortalClient(factory);
        await pi.SignInAsync($"pi@{slug}.example.edu");
        return (s, one, two, pi);
    }

    private static string InputValue(DateTimeOffset utc) => utc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);

    private static Task<HttpResponseMessage> OpenAsync(ReviewSteps.Setup s, DateTimeOffset deadline) =>
        s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking", new Dictionary<string, string> { ["responseDeadline"] = InputValue(deadline) }, $"/Admin/Calls/{s.Slug}/Ranking?handler=OpenResponse");

    private static Task<HttpResponseMessage> RespondAsync(PortalClient pi, Guid id, string text) =>
        pi.PostFormAsync($"/Proposals/Response/{id}", new Dictionary<string, string> { ["Text"] = text });

    private static Task<HttpResponseMessage> DecideAsync(ReviewSteps.Setup s, Guid id) =>
        s.Admin.PostFormAsync($"/Admin/Proposals/Decide/{id}", new Dictionary<string, string>
        {
            ["Input.Decision"] = "Awarded", ["Input.Hours[0].ClusterId"] = s.ClusterId.ToString(), ["Input.Hours[0].Hours"] = "6000", ["Input.Message"] = "Well argued.",
        });

    [Fact]
    public async Task Without_a_response_phase_the_team_sees_no_reviews_and_cannot_respond()
    {
        var (s, _, _, pi) = await ReviewedAsync("reply-none");
        var id = s.Proposals[0];
        var page = await pi.GetPageAsync($"/Proposals/Response/{id}");
        Assert.Contains("This call has no response phase", page, StringComparison.Ordinal);
        Assert.DoesNotContain("sharpen the evaluation plan", page, StringComparison.Ordinal);
        Assert.DoesNotContain("sharpen the evaluation plan", await pi.GetPageAsync($"/Proposals/Details/{id}"), StringComparison.Ordinal);

        using var posted = await RespondAsync(pi, id, "We disagree with the reviewers on every single point.");
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        await using var db = factory.NewDbContext();
        Assert.False(await db.ReviewResponses.AnyAsync(r => r.ProposalId == id));
        // Decisions are recorded as before.
        using var decided = await DecideAsync(s, id);
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
    }

    [Fact]
    public async Task The_team_responds_once_before_the_deadline_reviewers_revise_with_a_reason_and_the_ranking_shows_both_scores()
    {
        var (s, one, two, pi) = await ReviewedAsync("reply-call");
        var (first, second) = (s.Proposals[0], s.Proposals[1]);
        var now = factory.Clock.GetUtcNow();
        var deadline = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero).AddDays(3);

        using (var tooSoon = await OpenAsync(s, now.AddMinutes(5)))
        {
            Assert.Equal(HttpStatusCode.OK, tooSoon.StatusCode);
            Assert.Contains("at least an hour from now", await tooSoon.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var opened = await OpenAsync(s, deadline))
        {
            Assert.True(opened.StatusCode == HttpStatusCode.Redirect, ReviewSteps.ProblemOf(await opened.Content.ReadAsStringAsync()));
        }
        await using (var db = factory.NewDbContext())
        {
            var pi0 = await db.Users.Where(u => u.Email == $"pi@{s.Slug}.example.edu").Select(u => u.Id).SingleAsync();
            Assert.Equal(2, await db.Notifications.CountAsync(n => n.Kind == NotificationKinds.ResponseOpen && n.UserId == pi0));
        }

        // The team's dashboard makes the response its next step, with the deadline, linked to the response page.
        var dashboard = await pi.GetPageAsync("/");
        Assert.Contains("read them and respond before the deadline", dashboard, StringComparison.Ordinal);
        Assert.Contains($"href=\"/Proposals/Response/{first}\"", dashboard, StringComparison.Ordinal);

        // The team reads the comments meant for it: no reviewer, nothing confidential. Nobody else opens the page.
        var page = await pi.GetPageAsync($"/Proposals/Response/{first}");
        Assert.Contains("Reviewer scoring 7 says", page, StringComparison.Ordinal);
        Assert.Contains("Reviewer scoring 5 says", page, StringComparison.Ordinal);
        Assert.DoesNotContain("confidential note", page, StringComparison.Ordinal);
        Assert.DoesNotContain("one@", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Tokai", page, StringComparison.Ordinal);
        await ReviewSteps.AssertNotFoundAsync(one, $"/Proposals/Response/{first}");
        await ReviewSteps.AssertNotFoundAsync(s.Admin, $"/Proposals/Response/{first}");

        // No decision while the teams may still respond.
        using (var early = await DecideAsync(s, first))
        {
            Assert.Equal(HttpStatusCode.OK, early.StatusCode);
            Assert.Contains("may still respond", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // One response, Markdown sanitized; too short is refused.
        using (var short_ = await RespondAsync(pi, first, "No."))
        {
            Assert.Equal(HttpStatusCode.OK, short_.StatusCode);
        }
        using (var responded = await RespondAsync(pi, first, "Thank you. <script>alert(1)</script> We **will** run the [ablations](javascript:alert(1)) the reviewers asked for."))
        {
            Assert.Equal(HttpStatusCode.Redirect, responded.StatusCode);
        }
        using (var again = await RespondAsync(pi, first, "A second thought that should never be stored anywhere."))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("a response is written once", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(1, await db.ReviewResponses.CountAsync(r => r.ProposalId == first));
            var reviewers = await db.Reviews.Where(r => r.ProposalId == first).Select(r => r.ReviewerUserId).ToListAsync();
            Assert.Equal(reviewers.Order(), (await db.Notifications.Where(n => n.Kind == NotificationKinds.ResponseSubmitted).Select(n => n.UserId).ToListAsync()).Order());
            Assert.Contains(await db.ProposalHistory.Where(h => h.ProposalId == first).Select(h => h.Reason).ToListAsync(), r => r == "Response to the reviews submitted");
        }

        Assert.DoesNotContain($"href=\"/Proposals/Response/{first}\"", await pi.GetPageAsync("/"), StringComparison.Ordinal);
        Assert.Contains($"href=\"/Proposals/Response/{second}\"", await pi.GetPageAsync("/"), StringComparison.Ordinal);

        // Each reviewer's dashboard lists the response, linked to where it is shown, until they open their review.
        Assert.Contains($"href=\"/Reviews/Review/{first}#response\"", await one.GetPageAsync("/"), StringComparison.Ordinal);

        // The reviewer reads it sanitized; a change now needs a reason, and the original score is kept.
        var review = await one.GetPageAsync($"/Reviews/Review/{first}");
        Assert.DoesNotContain($"data-response=\"{first}\"", await one.GetPageAsync("/"), StringComparison.Ordinal);
        var othersDashboard = await two.GetPageAsync("/");
        Assert.Contains("Responses to read", othersDashboard, StringComparison.Ordinal);
        Assert.Contains($"data-response=\"{first}\"", othersDashboard, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-response=\"{second}\"", othersDashboard, StringComparison.Ordinal);
        Assert.Contains("<strong>will</strong>", review, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", review, StringComparison.Ordinal);
        Assert.DoesNotContain("javascript:alert", review, StringComparison.Ordinal);
        var revised = ReviewSteps.CompleteReview(s, "Reviewer scoring 7 says: the response convinced me.", overall: 9);
        using (var noReason = await one.PostFormAsync($"/Reviews/Review/{first}", revised, $"/Reviews/Review/{first}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.OK, noReason.StatusCode);
            Assert.Contains("Say why you revise", await noReason.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        revised["Input.RevisionReason"] = "The response answers my concern about the evaluation.";
        using (var withReason = await one.PostFormAsync($"/Reviews/Review/{first}", revised, $"/Reviews/Review/{first}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, withReason.StatusCode);
        }
        await using (var db = factory.NewDbContext())
        {
            var revision = await db.ReviewRevisions.SingleAsync(r => r.ProposalId == first);
            Assert.Equal((7, 9, "The response answers my concern about the evaluation."), (revision.FromOverall, revision.ToOverall, revision.Reason));
            // The history table refuses changes.
            await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync("UPDATE review_revisions SET from_overall = 9"));
        }

        // The ranking shows the scores before (7 and 5) and after (9 and 5) the response.
        var ranking = await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Ranking");
        Assert.Contains("Before response", ranking, StringComparison.Ordinal);
        Assert.Contains("/ 6.00</td>", ranking, StringComparison.Ordinal);
        Assert.Contains(">7.00</td>", ranking, StringComparison.Ordinal);
        Assert.Contains("1 review revised", ranking, StringComparison.Ordinal);

        // To the second: one second before the deadline a response is taken, at the deadline it is not.
        factory.Clock.Advance(deadline - factory.Clock.GetUtcNow() - TimeSpan.FromSeconds(1));
        // Days went by: fresh sign-ins, as real people would need after the idle limit.
        await pi.SignInAsync($"pi@{s.Slug}.example.edu");
        await s.Admin.SignInAsync($"admin-{s.Slug}@example.org");
        // The to-do list follows the response page's rule (ReviewResponses.MayRespond): still open a second before.
        Assert.Contains($"href=\"/Proposals/Response/{second}\"", await pi.GetPageAsync("/"), StringComparison.Ordinal);
        using (var last = await RespondAsync(pi, second, "Answered one second before the deadline, as the rules allow."))
        {
            Assert.Equal(HttpStatusCode.Redirect, last.StatusCode);
        }
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        using (var late = await RespondAsync(pi, first, "Late words that must not count at all."))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(2, await db.ReviewResponses.CountAsync(r => r.CallId == s.CallId));
        }
        // After the deadline decisions are recorded again.
        using var decided = await DecideAsync(s, first);
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
    }
}
