using Meta.ComputeAccess.Calls;

namespace Meta.ComputeAccess.Core.Tests.Calls;

public sealed class CallRulesTests
{
    private static readonly DateTimeOffset Now = new(2027, 1, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Teton = Guid.NewGuid();

    public static Call ReadyDraft()
    {
        var call = Call.Create("Spring call", "spring-call", Now);
        call.SetTexts("Spring call", "Compute for open research.", "Universities");
        call.SetSchedule(CallKind.Fixed, Now, Now.AddDays(30), new DateOnly(2027, 3, 1), new DateOnly(2028, 3, 1), "UTC");
        call.OfferCluster(Teton, 100_000m, 1_000m, 20_000m);
        call.AddCriterion("Merit", "Is it important?", 60m);
        return call;
    }

    [Fact]
    public void A_call_without_clusters_or_rubric_cannot_open_and_says_what_is_missing()
    {
        var call = Call.Create("Empty", "empty", Now);
        var ex = Assert.Throws<DomainException>(() => call.Open(Now));
        Assert.Contains("a description", ex.Message, StringComparison.Ordinal);
        Assert.Contains("at least one cluster", ex.Message, StringComparison.Ordinal);
        Assert.Contains("rubric", ex.Message, StringComparison.Ordinal);
        Assert.Equal(CallStatus.Draft, call.Status);
    }

    [Fact]
    public void An_open_call_budget_and_request_bounds_only_grow_more_permissive()
    {
        var call = ReadyDraft();
        call.Open(Now);

        call.OfferCluster(Teton, 150_000m, 500m, 30_000m);
        Assert.Equal(150_000m, call.ClusterTerms(Teton)!.BudgetHours);

        Assert.Throws<DomainException>(() => call.OfferCluster(Teton, 120_000m, 500m, 30_000m));
        Assert.Throws<DomainException>(() => call.OfferCluster(Teton, 150_000m, 500m, 25_000m));
        Assert.Throws<DomainException>(() => call.OfferCluster(Teton, 150_000m, 800m, 30_000m));
        Assert.Throws<DomainException>(() => call.WithdrawCluster(Teton));
        Assert.Equal(150_000m, call.ClusterTerms(Teton)!.BudgetHours);
    }

    [Fact]
    public void An_open_call_rubric_keeps_its_criteria_and_weights_but_guidance_can_be_clarified()
    {
        var call = ReadyDraft();
        call.Open(Now);
        var merit = call.Rubric[0];

        call.UpdateCriterion(merit.Id, "Merit", "Is it important, and for whom?", 60m);
        Assert.Equal("Is it important, and for whom?", call.Rubric[0].Guidance);
        Assert.Throws<DomainException>(() => call.UpdateCriterion(merit.Id, "Merit", "x", 10m));
        Assert.Throws<DomainException>(() => call.RemoveCriterion(merit.Id));
        call.AddCriterion("Openness", "Open weights?", 20m);
        Assert.Equal(2, call.Rubric.Count);
    }

    [Fact]
    public void An_open_call_deadline_can_move_later_but_never_earlier()
    {
        var call = ReadyDraft();
        call.Open(Now);
        call.SetSchedule(CallKind.Fixed, call.OpensAt, Now.AddDays(40), call.AwardStart, call.AwardEnd, "UTC");
        Assert.Equal(Now.AddDays(40), call.ClosesAt);
        Assert.Throws<DomainException>(() => call.SetSchedule(CallKind.Fixed, call.OpensAt, Now.AddDays(35), call.AwardStart, call.AwardEnd, "UTC"));
        Assert.Throws<DomainException>(() => call.SetReview(5, ReviewMode.DoubleBlind));
    }

    [Fact]
    public void Submissions_are_accepted_to_the_second_before_the_deadline_and_never_after_closing()
    {
        var call = ReadyDraft();
        call.Open(Now);
        var deadline = call.ClosesAt!.Value;
        Assert.True(call.IsAcceptingSubmissions(deadline.AddSeconds(-1)));
        Assert.False(call.IsAcceptingSubmissions(deadline));
        Assert.False(call.IsAcceptingSubmissions(Now.AddSeconds(-1)));

        call.Close(Now.AddDays(1));
        Assert.Equal(CallStatus.Closed, call.Status);
        Assert.False(call.IsAcceptingSubmissions(Now.AddDays(1).AddSeconds(1)));
        Assert.Throws<DomainException>(() => call.SetSchedule(CallKind.Fixed, call.OpensAt, Now.AddDays(60), call.AwardStart, call.AwardEnd, "UTC"));
    }

    [Fact]
    public void A_rolling_call_has_no_deadline_and_takes_submissions_until_closed()
    {
        var call = ReadyDraft();
        call.SetSchedule(CallKind.Rolling, Now, Now.AddDays(5), call.AwardStart, call.AwardEnd, "UTC");
        Assert.Null(call.ClosesAt);
        call.Open(Now);
        Assert.True(call.IsAcceptingSubmissions(Now.AddYears(1)));
        call.Close(Now.AddYears(1));
        Assert.False(call.IsAcceptingSubmissions(Now.AddYears(1).AddSeconds(1)));
    }

    [Fact]
    public void State_machine_refuses_illegal_transitions_with_a_message()
    {
        var call = ReadyDraft();
        Assert.Throws<DomainException>(() => call.Close(Now));
        Assert.Throws<DomainException>(call.MarkDecided);
        call.Open(Now);
        Assert.Throws<DomainException>(() => call.Open(Now));
        Assert.Throws<DomainException>(call.Archive);
        call.Close(Now);
        call.MarkDecided();
        call.Archive();
        Assert.Equal(CallStatus.Archived, call.Status);
        Assert.Throws<DomainException>(() => call.SetTexts("x", "y", "z"));
    }
}
