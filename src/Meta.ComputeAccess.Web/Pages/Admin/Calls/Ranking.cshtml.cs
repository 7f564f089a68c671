using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>The calibrated ranking, reviewer leniency, bulk decisions and the release of all decisions together.</summary>
public sealed class RankingModel(PortalDbContext db, ReviewRanking ranking, ReviewDecisions decisions, ReviewResponses responses, SafetyTrack safety) : CallStepPageModel(db)
{
    public string Slug { get; private set; } = "";

    public Call Call { get; private set; } = null!;

    public Ranking Ranking { get; private set; } = null!;

    public Dictionary<Guid, string> ClusterNames { get; private set; } = [];

    public int Unreleased { get; private set; }

    /// <summary>The proposals in the safety track and their sign-off (an award is released only once signed off).</summary>
    public IReadOnlyDictionary<Guid, SafetyState> Safety { get; private set; } = new Dictionary<Guid, SafetyState>();

    public Task<IActionResult> OnPostDecideAsync(string slug, List<Guid> ids, ProposalDecision decision, string? message, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId => $"Recorded {English.Count(await decisions.DecideManyAsync(callId, ids ?? [], decision, message ?? "", User.GetUserId(), cancellationToken), "decision")}; applicants see decisions once they are released.", cancellationToken);

    public Task<IActionResult> OnPostReleaseAsync(string slug, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId => $"Released {English.Count(await decisions.ReleaseAsync(callId, User.GetUserId(), cancellationToken), "decision")}; the applicants were notified.", cancellationToken);

    /// <summary>Opens the applicants' response phase until the deadline entered in the admin's time zone.</summary>
    public async Task<IActionResult> OnPostOpenResponseAsync(string slug, string? responseDeadline, CancellationToken cancellationToken)
    {
        if (!UserTime.TryParseInput(responseDeadline, User.TimeZone(), out var deadline, out var error))
        {
            ModelState.AddModelError(nameof(responseDeadline), error);
            return await OnGetAsync(slug, cancellationToken);
        }
        return await ActAsync(slug, async callId =>
            $"Response phase opened: the teams of {English.Count(await responses.OpenAsync(callId, deadline, User.GetUserId(), cancellationToken), "proposal")} were told.",
            cancellationToken, field: nameof(responseDeadline));
    }

    protected override async Task LoadAsync(Guid callId, CancellationToken cancellationToken)
    {
        Call = await Db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        Slug = Call.Slug;
        Ranking = await ranking.BuildAsync(callId, cancellationToken);
        var clusterIds = Call.Clusters.Select(c => c.ClusterId).ToList();
        ClusterNames = await Db.Clusters.AsNoTracking().Where(c => clusterIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        Unreleased = Ranking.Rows.Count(r => r.Status == ProposalStatus.Decided && !r.Released);
        Safety = await safety.StatesAsync([.. Ranking.Rows.Select(r => r.ProposalId)], cancellationToken);
    }
}
