using System.Text.RegularExpressions;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;

namespace Meta.ComputeAccess.Web.Tests.Dashboard;

/// <summary>
/// Proposals in every step of the workflow, made through the domain methods (as the demo seed does), for the dashboard
/// tests; and reading the dashboard's queues back from its HTML by their data attributes.
/// </summary>
internal sealed partial class DashboardWorld(PortalDbContext db, Call call, Guid clusterId, Guid pi, Guid admin, DateTimeOffset now)
{
    /// <summary>An open call asking for two reviews per proposal, with a cluster of its own (not yet saved).</summary>
    public static (Call Call, Cluster Cluster) NewCall(string slug, DateTimeOffset now, TimeSpan? closesIn = null, TimeSpan? openedAgo = null)
    {
        var cluster = Cluster.Create("Cluster " + slug, "c-" + slug, "H100 80GB", 16, 8, "c" + slug.Replace("-", "", StringComparison.Ordinal), now);
        var call = Call.Create("Call " + slug, slug, now);
        call.SetTexts(call.Title, "Open research.", "Universities");
        call.SetSchedule(CallKind.Fixed, now - (openedAgo ?? TimeSpan.FromMinutes(1)), now + (closesIn ?? TimeSpan.FromDays(10)), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(1)),
            DateOnly.FromDateTime(now.UtcDateTime.AddMonths(13)), "UTC");
        call.SetReview(2, ReviewMode.SingleBlind);
        call.OfferCluster(cluster.Id, 1_000_000m, 1_000m, 100_000m);
        call.AddCriterion("Merit", "Is it important?", 50m);
        call.Open(now);
        return (call, cluster);
    }

    public Proposal Draft(string title, Guid? owner = null)
    {
        var p = Proposal.StartDraft(call, owner ?? pi, title, now);
        p.UpdateDraft(new ProposalContent(title, new string('a', 120), ["dashboards"], "Other", new string('j', 120), false, "", false, "", "MIT licence",
            PlannedOutputs.Code, "", [new RequestedHours(clusterId, 10_000m, 5_000m)], false, ""), call, now);
        db.Proposals.Add(p);
        return p;
    }

    public Proposal Submitted(string title, Guid? owner = null)
    {
        var p = Draft(title, owner);
        p.Submit(call, owner ?? pi, now);
        return p;
    }

    public Proposal Screening(string title)
    {
        var p = Submitted(title);
        p.StartScreening(admin, now);
        return p;
    }

    /// <summary>In review with <paramref name="reviewers"/> assigned.</summary>
    public Proposal InReview(string title, params Guid[] reviewers)
    {
        var p = Screening(title);
        p.SendToReview(admin, now, "Screening passed");
        foreach (var reviewer in reviewers)
        {
            Assign(p, reviewer);
        }
        return p;
    }

    public ProposalReview Assign(Proposal p, Guid reviewer)
    {
        p.RecordReviewerChange(true, admin, now);
        var review = ProposalReview.Assign(call.Id, p.Id, reviewer, admin, null, now);
        db.Reviews.Add(review);
        return review;
    }

    public Proposal Decided(string title, ProposalDecision decision, bool released)
    {
        var p = InReview(title);
        if (decision == ProposalDecision.Awarded)
        {
            p.Decide(decision, [new AwardedHours(clusterId, 8_000m)], admin, now, "Congratulations.");
        }
        else
        {
            p.Decide(decision, admin, now, "Not this time.");
        }
        if (released)
        {
            p.ReleaseDecision(admin, now);
        }
        return p;
    }

    public void Conflict(Proposal p, Guid reviewer, bool confirmed = false)
    {
        var conflict = ReviewConflict.Create(call.Id, p.Id, reviewer, ConflictSource.SameInstitution, "Same institution", now);
        if (confirmed)
        {
            conflict.Confirm(admin, now);
        }
        db.ReviewConflicts.Add(conflict);
    }

    /// <summary>The text of a queue cell (<c>data-queue</c>) in the row of <paramref name="callSlug"/>, tags removed.</summary>
    public static string CallQueue(string html, string callSlug, string queue)
    {
        var row = Regex.Match(html, $"<tr data-call=\"{Regex.Escape(callSlug)}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(row.Success, $"No dashboard row for {callSlug}");
        var cell = Regex.Match(row.Groups[1].Value, $"data-queue=\"{queue}\">(.*?)</td>", RegexOptions.Singleline);
        Assert.True(cell.Success, $"No {queue} cell for {callSlug}");
        return Text(cell.Groups[1].Value);
    }

    /// <summary>The text of the list item of a queue outside the calls table; null when it is not shown.</summary>
    public static string? ListQueue(string html, string queue)
    {
        var item = Regex.Match(html, $"<li data-queue=\"{queue}\">(.*?)</li>", RegexOptions.Singleline);
        return item.Success ? Text(item.Groups[1].Value) : null;
    }

    /// <summary>The element carrying <paramref name="attribute"/>="<paramref name="value"/>" as text (a table row or list item).</summary>
    public static string Row(string html, string attribute, string value)
    {
        var row = Regex.Match(html, $"<(tr|li) {attribute}=\"{Regex.Escape(value)}\"[^>]*>(.*?)</\\1>", RegexOptions.Singleline);
        Assert.True(row.Success, $"No {attribute}={value} on the dashboard");
        return row.Groups[2].Value;
    }

    public static string Text(string html) =>
        System.Net.WebUtility.HtmlDecode(Whitespace().Replace(Tags().Replace(html, " "), " ")).Trim();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex("\\s+")]
    private static partial Regex Whitespace();
}
