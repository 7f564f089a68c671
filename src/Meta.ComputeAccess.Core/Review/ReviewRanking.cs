using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>One cluster's hours on a ranking row: requested, capped, recommended (median) and the default award.</summary>
public sealed record RankingHours(Guid ClusterId, decimal Requested, decimal? Cap, decimal? MedianRecommendation, decimal DefaultAward, decimal? Awarded);

/// <summary>A proposal on the admin's ranking page.</summary>
public sealed record RankingRow(
    Guid ProposalId,
    string Title,
    ProposalStatus Status,
    ProposalDecision? Decision,
    bool Released,
    double? Calibrated,
    double? RawMean,
    double? Spread,
    bool Disagreement,
    double? MeanConfidence,
    int Submitted,
    int Assigned,
    TechnicalCheck? Technical,
    string TechnicalNote,
    IReadOnlyList<RankingHours> Hours,
    ResponseEffect? Response)
{
    public int Missing => Math.Max(0, Assigned - Submitted);
}

/// <summary>
/// In a call with a response phase: whether the team responded, how many reviews were revised since, and the scores as
/// they were before any revision (each review's score before its first revision).
/// </summary>
public sealed record ResponseEffect(bool Responded, int Revised, double? CalibratedBefore, double? RawMeanBefore);

public sealed record RankedReviewer(Guid UserId, string Name, double Leniency, int ReviewCount);

/// <param name="ResponsePhase">Whether the call has a response phase (the rows then carry <see cref="RankingRow.Response"/>).</param>
public sealed record Ranking(IReadOnlyList<RankingRow> Rows, IReadOnlyList<RankedReviewer> Reviewers, int Components, bool ResponsePhase);

/// <summary>
/// The call's ranking: overall scores of submitted reviews calibrated with <see cref="ScoreCalibration"/> (quality + leniency),
/// next to raw mean, spread, confidence, the technical check, hours and missing reviews. Unreviewed proposals rank last.
/// Ranked are the call's proposals sent to review (<see cref="ProposalStatusSets.Decidable"/>) that screening did not fail.
/// </summary>
public sealed class ReviewRanking(PortalDbContext db)
{
    public async Task<Ranking> BuildAsync(Guid callId, CancellationToken cancellationToken)
    {
        var inputs = await LoadAsync(callId, null, cancellationToken);
        var submitted = inputs.Reviews.Where(r => r.SubmittedAt != null && r.Overall != null).ToList();
        var calibration = new ScoreCalibration().Fit([.. submitted.Select(r => new ReviewScore(r.ProposalId, r.ReviewerUserId, r.Overall!.Value))]);
        var calibrated = calibration.Proposals.ToDictionary(p => p.ProposalId);
        var responsePhase = await db.Calls.AnyAsync(c => c.Id == callId && c.ResponseOpenedAt != null, cancellationToken);
        var effects = responsePhase ? await ResponseEffectsAsync(callId, submitted, cancellationToken) : null;

        var rows = new List<RankingRow>();
        foreach (var p in inputs.Proposals)
        {
            var mine = inputs.Reviews.Where(r => r.ProposalId == p.Id).ToList();
            var done = mine.Where(r => r.SubmittedAt != null).ToList();
            var screening = inputs.Screenings.GetValueOrDefault(p.Id);
            var c = calibrated.GetValueOrDefault(p.Id);
            rows.Add(new RankingRow(p.Id, p.Title, p.Status, p.Decision, p.DecisionReleasedAt != null,
                c?.CalibratedScore, c?.RawMean, c?.Spread, c?.Disagreement ?? false,
                done.Count == 0 ? null : done.Average(r => (double)(r.Confidence ?? 0)),
                done.Count, mine.Count, screening?.Technical, screening?.TechnicalNote ?? "", HoursOf(p, done, screening), effects?.GetValueOrDefault(p.Id)));
        }
        rows = [.. rows.OrderByDescending(r => r.Calibrated ?? double.MinValue).ThenBy(r => r.ProposalId)];
        var reviewerIds = calibration.Reviewers.Select(r => r.ReviewerId).ToList();
        var names = await db.Users.AsNoTracking().Where(u => reviewerIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.FullName, cancellationToken);
        var reviewers = calibration.Reviewers
            .Select(r => new RankedReviewer(r.ReviewerId, names.GetValueOrDefault(r.ReviewerId, "?"), r.Leniency, r.ReviewCount))
            .OrderByDescending(r => r.Leniency).ToList();
        return new Ranking(rows, reviewers, calibration.ComponentCount, responsePhase);
    }

    /// <summary>
    /// Per proposal: the response, the revised reviews, and the scores before the response (each review at the score before
    /// its first revision, calibrated over the whole call like the current ones).
    /// </summary>
    private async Task<Dictionary<Guid, ResponseEffect>> ResponseEffectsAsync(Guid callId, IReadOnlyList<ProposalReview> submitted, CancellationToken cancellationToken)
    {
        var ids = submitted.Select(r => r.Id).ToList();
        var firstRevisions = (await db.ReviewRevisions.AsNoTracking().Where(v => ids.Contains(v.ReviewId))
                .Select(v => new { v.ReviewId, v.Id, v.FromOverall }).ToListAsync(cancellationToken))
            .GroupBy(v => v.ReviewId).ToDictionary(g => g.Key, g => g.MinBy(v => v.Id)!.FromOverall);
        var responded = (await db.ReviewResponses.AsNoTracking().Where(r => r.CallId == callId).Select(r => r.ProposalId).ToListAsync(cancellationToken)).ToHashSet();
        var before = new ScoreCalibration().Fit([.. submitted.Select(r => new ReviewScore(r.ProposalId, r.ReviewerUserId, firstRevisions.GetValueOrDefault(r.Id, r.Overall!.Value)))])
            .Proposals.ToDictionary(p => p.ProposalId);
        return submitted.GroupBy(r => r.ProposalId).ToDictionary(g => g.Key, g => new ResponseEffect(
            responded.Contains(g.Key), g.Count(r => firstRevisions.ContainsKey(r.Id)), before.GetValueOrDefault(g.Key)?.CalibratedScore, before.GetValueOrDefault(g.Key)?.RawMean));
    }

    /// <summary>
    /// The default award per requested cluster (<see cref="RankingHours.DefaultAward"/>) of each of <paramref name="proposalIds"/>
    /// that is in the call's ranking; the others are absent. Reads only those proposals and their reviews: a default
    /// does not depend on the rest of the ranking.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<AwardedHours>>> DefaultAwardsAsync(Guid callId, IReadOnlyCollection<Guid> proposalIds, CancellationToken cancellationToken)
    {
        var inputs = await LoadAsync(callId, proposalIds, cancellationToken);
        return inputs.Proposals.ToDictionary(p => p.Id, p => (IReadOnlyList<AwardedHours>)
        [
            .. HoursOf(p, [.. inputs.Reviews.Where(r => r.ProposalId == p.Id && r.SubmittedAt != null)], inputs.Screenings.GetValueOrDefault(p.Id))
                .Select(h => new AwardedHours(h.ClusterId, h.DefaultAward)),
        ]);
    }

    private sealed record Inputs(IReadOnlyList<Proposal> Proposals, IReadOnlyList<ProposalReview> Reviews, IReadOnlyDictionary<Guid, Screening> Screenings);

    /// <summary>The ranked proposals of the call (only <paramref name="only"/>, when given), their reviews and screenings.</summary>
    private async Task<Inputs> LoadAsync(Guid callId, IReadOnlyCollection<Guid>? only, CancellationToken cancellationToken)
    {
        var ranked = db.Proposals.AsNoTracking()
            .Where(p => p.CallId == callId && ProposalStatusSets.Decidable.Contains(p.Status)
                && !db.Screenings.Any(s => s.ProposalId == p.Id && (!s.Eligible || s.Technical == TechnicalCheck.Fail)));
        if (only is not null)
        {
            ranked = ranked.Where(p => only.Contains(p.Id));
        }
        var proposals = await ranked.Include(p => p.Requests).Include(p => p.Awards).AsSplitQuery().ToListAsync(cancellationToken);
        var ids = proposals.Select(p => p.Id).ToList();
        var reviews = await db.Reviews.AsNoTracking().Include(r => r.Recommendations).Where(r => ids.Contains(r.ProposalId)).ToListAsync(cancellationToken);
        var screenings = await db.Screenings.AsNoTracking().Where(s => ids.Contains(s.ProposalId)).ToDictionaryAsync(s => s.ProposalId, cancellationToken);
        return new Inputs(proposals, reviews, screenings);
    }

    /// <summary>Requested, capped, recommended (median of the submitted reviews) and default hours per requested cluster.</summary>
    private static List<RankingHours> HoursOf(Proposal p, IReadOnlyList<ProposalReview> submitted, Screening? screening) =>
        [
            .. p.Requests.Select(req =>
            {
                var recs = submitted.SelectMany(r => r.Recommendations).Where(h => h.ClusterId == req.ClusterId).Select(h => h.Hours).ToList();
                var cap = screening?.CapFor(req.ClusterId);
                return new RankingHours(req.ClusterId, req.RequestedHours, cap, recs.Count == 0 ? null : AwardDefaults.Median(recs),
                    AwardDefaults.Hours(req.RequestedHours, cap, recs), p.Awards.FirstOrDefault(a => a.ClusterId == req.ClusterId)?.Hours);
            }),
        ];
}
