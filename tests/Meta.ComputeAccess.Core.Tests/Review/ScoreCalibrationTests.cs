using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Core.Tests.Review;

public sealed class ScoreCalibrationTests
{
    private static Guid Id(int kind, int n) => new(n, (short)kind, 0, new byte[8]);

    private static Guid P(int n) => Id(1, n);

    private static Guid R(int n) => Id(2, n);

    /// <summary>Each of <paramref name="proposals"/> reviewed by 3 of <paramref name="reviewers"/> reviewers, in a rotating pattern that connects everyone.</summary>
    private static List<(int Proposal, int Reviewer)> Design(int proposals, int reviewers, int perProposal = 3)
    {
        var pairs = new List<(int, int)>();
        for (var p = 0; p < proposals; p++)
        {
            for (var k = 0; k < perProposal; k++)
            {
                pairs.Add((p, (p + k * 3) % reviewers));
            }
        }
        return pairs;
    }

    [Fact]
    public void A_reviewer_one_point_harsher_than_the_rest_is_recovered_within_a_fifth_of_a_point()
    {
        var random = new Random(42);
        var quality = Enumerable.Range(0, 60).Select(_ => 3 + 5 * random.NextDouble()).ToArray();
        const int harsh = 4;
        var scores = Design(60, 10).Select(pr =>
        {
            var noise = (random.NextDouble() - 0.5) * 0.6;
            var offset = pr.Reviewer == harsh ? -1.0 : 0.0;
            return new ReviewScore(P(pr.Proposal), R(pr.Reviewer), quality[pr.Proposal] + offset + noise);
        }).ToList();

        var result = new ScoreCalibration().Fit(scores);

        var harshLeniency = result.Reviewers.Single(r => r.ReviewerId == R(harsh)).Leniency;
        var othersMean = result.Reviewers.Where(r => r.ReviewerId != R(harsh)).Average(r => r.Leniency);
        Assert.InRange(harshLeniency - othersMean, -1.2, -0.8);
    }

    [Fact]
    public void Noise_free_scores_recover_qualities_exactly_up_to_a_common_shift()
    {
        var quality = Enumerable.Range(0, 30).Select(p => 1.0 + (p * 7 % 9)).ToArray();
        double[] leniency = [0.5, -1.0, 0.0, 2.0, -0.25, 0.75, -1.5];
        var scores = Design(30, leniency.Length)
            .Select(pr => new ReviewScore(P(pr.Proposal), R(pr.Reviewer), quality[pr.Proposal] + leniency[pr.Reviewer]))
            .ToList();

        var result = new ScoreCalibration(new CalibrationSettings(Lambda: 0)).Fit(scores);

        Assert.Equal(1, result.ComponentCount);
        var shift = result.Proposals.Single(x => x.ProposalId == P(0)).CalibratedScore - quality[0];
        for (var p = 0; p < quality.Length; p++)
        {
            Assert.Equal(quality[p] + shift, result.Proposals.Single(x => x.ProposalId == P(p)).CalibratedScore, 9);
        }
        for (var r = 0; r < leniency.Length; r++)
        {
            Assert.Equal(leniency[r] - shift, result.Reviewers.Single(x => x.ReviewerId == R(r)).Leniency, 9);
        }
        Assert.Equal(0.0, result.Reviewers.Average(x => x.Leniency), 9);
    }

    [Fact]
    public void Leniencies_are_centred_to_mean_zero_with_the_ridge_penalty()
    {
        var scores = Design(20, 5).Select(pr => new ReviewScore(P(pr.Proposal), R(pr.Reviewer), 5 + pr.Reviewer)).ToList();

        var result = new ScoreCalibration(new CalibrationSettings(Lambda: 2)).Fit(scores);

        Assert.Equal(0.0, result.Reviewers.Sum(r => r.Leniency), 9);
        // The generous reviewer (4) comes out most lenient, the harsh one (0) least.
        Assert.Equal(R(4), result.Reviewers.MaxBy(r => r.Leniency)!.ReviewerId);
        Assert.Equal(R(0), result.Reviewers.MinBy(r => r.Leniency)!.ReviewerId);
    }

    [Fact]
    public void Ranking_is_by_calibrated_score_not_raw_mean()
    {
        // Proposal A: 7 from the harsh reviewer (who gives B 5 where everyone else gives 7..8).
        // Proposal B: 8 from a lenient reviewer. Raw ranking would put B first.
        List<ReviewScore> scores =
        [
            new(P(1), R(1), 7), new(P(1), R(3), 9),
            new(P(2), R(2), 8), new(P(2), R(3), 7),
            new(P(3), R(1), 5), new(P(3), R(2), 8), new(P(3), R(3), 7.5),
        ];

        var result = new ScoreCalibration(new CalibrationSettings(Lambda: 0.1)).Fit(scores);

        Assert.Equal(P(1), result.Proposals[0].ProposalId);
        Assert.True(result.Proposals.Single(p => p.ProposalId == P(1)).RawMean > result.Proposals.Single(p => p.ProposalId == P(2)).RawMean);
    }

    [Fact]
    public void Raw_mean_count_spread_and_disagreement_are_reported()
    {
        List<ReviewScore> scores =
        [
            new(P(1), R(1), 2), new(P(1), R(2), 5), new(P(1), R(3), 4),
            new(P(2), R(1), 6), new(P(2), R(2), 8),
        ];

        var result = new ScoreCalibration().Fit(scores);

        var first = result.Proposals.Single(p => p.ProposalId == P(1));
        Assert.Equal(11.0 / 3, first.RawMean, 12);
        Assert.Equal(3, first.ReviewCount);
        Assert.Equal(3.0, first.Spread);
        Assert.True(first.Disagreement);
        var second = result.Proposals.Single(p => p.ProposalId == P(2));
        Assert.Equal(2.0, second.Spread);
        Assert.False(second.Disagreement);
        Assert.Equal([2, 2, 1], result.Reviewers.Select(r => r.ReviewCount).ToArray());
    }

    [Fact]
    public void Empty_input_gives_an_empty_result()
    {
        var result = new ScoreCalibration().Fit([]);

        Assert.Empty(result.Proposals);
        Assert.Empty(result.Reviewers);
        Assert.Equal(0, result.ComponentCount);
    }

    [Fact]
    public void A_single_review_keeps_its_score_and_gives_no_leniency()
    {
        var result = new ScoreCalibration().Fit([new ReviewScore(P(1), R(1), 6)]);

        Assert.Equal(6.0, Assert.Single(result.Proposals).CalibratedScore, 12);
        Assert.Equal(0.0, Assert.Single(result.Reviewers).Leniency, 12);
    }

    [Fact]
    public void Proposals_and_reviewers_with_one_review_get_finite_estimates()
    {
        List<ReviewScore> scores =
        [
            new(P(1), R(1), 6), new(P(1), R(2), 8),
            new(P(2), R(1), 4), new(P(2), R(2), 6),
            new(P(3), R(2), 9),                       // proposal with one review
            new(P(4), R(1), 5), new(P(4), R(3), 9),   // reviewer 3 has one review
        ];

        var result = new ScoreCalibration().Fit(scores);

        Assert.All(result.Proposals, p => Assert.True(double.IsFinite(p.CalibratedScore)));
        Assert.All(result.Reviewers, r => Assert.True(double.IsFinite(r.Leniency)));
        Assert.Equal(1, result.ComponentCount);
        // Reviewer 2 consistently scores 2 above reviewer 1.
        var l = result.Reviewers.ToDictionary(r => r.ReviewerId, r => r.Leniency);
        Assert.True(l[R(2)] - l[R(1)] > 1.0);
    }

    [Fact]
    public void Disconnected_components_are_each_centred_and_numbered()
    {
        List<ReviewScore> scores =
        [
            new(P(1), R(1), 6), new(P(1), R(2), 8),
            new(P(2), R(1), 5), new(P(2), R(2), 7),
            new(P(3), R(3), 3), new(P(3), R(4), 9),
            new(P(4), R(3), 2), new(P(4), R(4), 8),
        ];

        var result = new ScoreCalibration(new CalibrationSettings(Lambda: 0)).Fit(scores);

        Assert.Equal(2, result.ComponentCount);
        var byId = result.Reviewers.ToDictionary(r => r.ReviewerId);
        Assert.Equal(byId[R(1)].Component, byId[R(2)].Component);
        Assert.NotEqual(byId[R(1)].Component, byId[R(3)].Component);
        Assert.Equal(-1.0, byId[R(1)].Leniency, 9);
        Assert.Equal(1.0, byId[R(2)].Leniency, 9);
        Assert.Equal(-3.0, byId[R(3)].Leniency, 9);
        Assert.Equal(3.0, byId[R(4)].Leniency, 9);
        Assert.Equal(5.0, result.Proposals.Single(p => p.ProposalId == P(4)).CalibratedScore, 9);
    }

    [Fact]
    public void Input_order_does_not_change_the_result()
    {
        var scores = Design(12, 5).Select(pr => new ReviewScore(P(pr.Proposal), R(pr.Reviewer), (pr.Proposal * 3 + pr.Reviewer * 5) % 10)).ToList();
        var random = new Random(5);
        var shuffled = scores.OrderBy(_ => random.Next()).ToList();

        var a = new ScoreCalibration().Fit(scores);
        var b = new ScoreCalibration().Fit(shuffled);

        Assert.Equal(a.Proposals, b.Proposals);
        Assert.Equal(a.Reviewers, b.Reviewers);
    }

    [Fact]
    public void Two_scores_from_one_reviewer_for_one_proposal_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new ScoreCalibration().Fit([new(P(1), R(1), 5), new(P(1), R(1), 6)]));
    }
}
