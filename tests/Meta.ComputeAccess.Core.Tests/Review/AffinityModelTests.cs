using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Core.Tests.Review;

public sealed class AffinityModelTests
{
    private readonly AffinityModel _model = new();

    [Fact]
    public void Explanation_names_the_bid_and_the_shared_keywords()
    {
        var affinity = _model.Compute(Bid.Eager, ["LLM", "RLHF", "vision"], ["rlhf", "llm", "robotics"]);

        Assert.Equal("bid eager; 2 shared keywords: llm, rlhf", affinity.Explanation);
        Assert.False(affinity.IsExcluded);
        // Jaccard = 2 shared / 4 distinct.
        Assert.Equal(2.0 + 0.5, affinity.Value, 12);
    }

    [Fact]
    public void Keywords_match_regardless_of_case_hyphens_and_spacing()
    {
        var affinity = _model.Compute(null, ["Large-Language  Models"], ["large language models"]);

        Assert.Equal(["large language models"], affinity.SharedKeywords);
        Assert.Equal(1.0, affinity.Value, 12);
        Assert.StartsWith("no bid;", affinity.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Conflict_bid_is_a_hard_exclusion()
    {
        var affinity = _model.Compute(Bid.Conflict, ["llm"], ["llm"]);

        Assert.True(affinity.IsExcluded);
    }

    [Fact]
    public void Bids_order_affinity_from_eager_to_unwilling()
    {
        double Of(Bid bid) => _model.Compute(bid, ["a"], ["b"]).Value;

        Assert.True(Of(Bid.Eager) > Of(Bid.Willing));
        Assert.True(Of(Bid.Willing) > Of(Bid.Neutral));
        Assert.True(Of(Bid.Neutral) > Of(Bid.Unwilling));
    }

    [Fact]
    public void No_keywords_on_either_side_add_nothing()
    {
        var affinity = _model.Compute(Bid.Neutral, [], []);

        Assert.Equal(0.0, affinity.Value);
        Assert.Equal("bid neutral; no shared keywords", affinity.Explanation);
    }
}
