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
    IReadOnlyList<RankingHours> Hours)
{
    public int Missing => Math.Max(0, Assigned - Submitted);
}

public sealed record RankedReviewer(Guid UserId, string Name, double Leniency, int ReviewCount);

public sealed record Ranking(IReadOnlyList<RankingRow> Rows, IReadOnlyList<RankedReviewer> Reviewers, int Components);

/// <summary>
/// The call's ranking: overall scores of submitted reviews calibrated with <see cref="ScoreCalibration"/> (quality + leniency),
/// next to raw mean, spread, confidence, the technical check, hours and missing reviews. Unreviewed proposals rank last.
/// </summary>
public sealed class ReviewRanking(PortalDbContext db)
{
    private static readonly ProposalStatus[] Ranked = [ProposalStatus.InReview, ProposalStatus.ReviewsComplete, ProposalStatus.Decided];

    public async Task<Ranking> BuildAsync(Guid callId, CancellationToken cancellationToken)
    {
        var proposals = await db.Proposals.AsNoTracking().Include(p => p.Requests).Include(p => p.Awards).AsSplitQuery()
            .Where(p => p.CallId == callId && Ranked.Contains(p.Status) && !db.Screenings.Any(s => s.ProposalId == p.Id && (!s.Eligible || s.Technical == TechnicalCheck.Fail)))
            .ToListAsync(cancellationToken);
        var ids = proposals.Select(p => p.Id).ToList();
        var reviews = await db.Reviews.AsNoTracking().Include(r => r.Recommendations).Where(r => ids.Contains(r.ProposalId)).ToListAsync(cancellationToken);
        var screenings = await db.Screenings.AsNoTracking().Where(s => ids.Contains(s.ProposalId)).ToDictionaryAsync(s => s.ProposalId, cancellationToken);
        var submitted = reviews.Where(r => r.SubmittedAt != null && r.Overall != null).ToList();
        var calibration = new ScoreCalibration().Fit([.. submitted.Select(r => new ReviewScore(r.ProposalId, r.ReviewerUserId, r.Overall!.Value))]);
        var calibrated = calibration.Proposals.ToDictionary(p => p.ProposalId);

        var rows = new List<RankingRow>();
        foreach (var p in proposals)
        {
            var mine = reviews.Where(r => r.ProposalId == p.Id).ToList();
            var done = mine.Where(r => r.SubmittedAt != null).ToList();
            var screening = screenings.GetValueOrDefault(p.Id);
            var hours = p.Requests.Select(req =>
            {
                var recs = done.SelectMany(r => r.Recommendations).Where(h => h.ClusterId == req.ClusterId).Select(h => h.Hours).ToList();
                var cap = screening?.CapFor(req.ClusterId);
                return new RankingHours(req.ClusterId, req.RequestedHours, cap, recs.Count == 0 ? null : AwardDefaults.Median(recs),
                    AwardDefaults.Hours(req.RequestedHours, cap, recs), p.Awards.FirstOrDefault(a => a.ClusterId == req.ClusterId)?.Hours);
            }).ToList();
            var c = calibrated.GetValueOrDefault(p.Id);
            rows.Add(new RankingRow(p.Id, p.Title, p.Status, p.Decision, p.DecisionReleasedAt != null,
                c?.CalibratedScore, c?.RawMean, c?.Spread, c?.Disagreement ?? false,
                done.Count == 0 ? null : done.Average(r => (double)(r.Confidence ?? 0)),
                done.Count, mine.Count, screening?.Technical, screening?.TechnicalNote ?? "", hours));
        }
        rows = [.. rows.OrderByDescending(r => r.Calibrated ?? double.MinValue).ThenBy(r => r.ProposalId)];
        var reviewerIds = calibration.Reviewers.Select(r => r.ReviewerId).ToList();
        var names = await db.Users.AsNoTracking().Where(u => reviewerIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.FullName, cancellationToken);
        var reviewers = calibration.Reviewers
            .Select(r => new RankedReviewer(r.ReviewerId, names.GetValueOrDefault(r.ReviewerId, "?"), r.Leniency, r.ReviewCount))
            .OrderByDescending(r => r.Leniency).ToList();
        return new Ranking(rows, reviewers, calibration.ComponentCount);
    }
}
