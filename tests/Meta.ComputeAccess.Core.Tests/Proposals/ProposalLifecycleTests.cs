using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Core.Tests.Calls;
using Meta.ComputeAccess.Proposals;

namespace Meta.ComputeAccess.Core.Tests.Proposals;

public sealed class ProposalLifecycleTests
{
    private static readonly DateTimeOffset Now = new(2027, 1, 10, 12, 0, 0, TimeSpan.Zero);

    private static (Call Call, Proposal Proposal, Guid Pi) Draft()
    {
        var call = CallRulesTests.ReadyDraft();
        call.Open(Now);
        var pi = Guid.NewGuid();
        return (call, Proposal.StartDraft(call, pi, "Open speech models", Now), pi);
    }

    public static ProposalContent Complete(Call call) => new(
        "Open speech models for low-resource languages",
        new string('a', 120),
        ["speech", "low-resource"],
        "Speech and audio",
        new string('j', 120),
        false, "", false, "", "Apache-2.0 code, CC BY data",
        PlannedOutputs.Papers | PlannedOutputs.OpenWeights, "",
        [new RequestedHours(call.Clusters[0].ClusterId, 10_000m, 5_000m)], false, "");

    [Fact]
    public void Incomplete_draft_submission_names_every_missing_field()
    {
        var (call, proposal, pi) = Draft();
        var ex = Assert.Throws<DomainException>(() => proposal.Submit(call, pi, Now.AddHours(1)));
        Assert.Contains(nameof(Proposal.AbstractMarkdown), ex.Fields.Keys);
        Assert.Contains(nameof(Proposal.Requests), ex.Fields.Keys);
        Assert.Contains(nameof(Proposal.UsesPersonalData), ex.Fields.Keys);
        Assert.Contains(nameof(Proposal.PlannedOutputs), ex.Fields.Keys);
        Assert.Equal(ProposalStatus.Draft, proposal.Status);
    }

    [Fact]
    public void Each_safety_question_left_unanswered_refuses_the_submission_by_name()
    {
        var (call, proposal, pi) = Draft();
        proposal.UpdateDraft(Complete(call) with { InvolvesHumanSubjects = null, HasDualUseRisk = null }, call, Now);
        var ex = Assert.Throws<DomainException>(() => proposal.Submit(call, pi, Now));
        Assert.Equal([nameof(Proposal.HasDualUseRisk), nameof(Proposal.InvolvesHumanSubjects)], ex.Fields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(ProposalStatus.Draft, proposal.Status);
    }

    [Fact]
    public void Personal_data_answered_yes_needs_details()
    {
        var (call, proposal, pi) = Draft();
        proposal.UpdateDraft(Complete(call) with { UsesPersonalData = true }, call, Now);
        var ex = Assert.Throws<DomainException>(() => proposal.Submit(call, pi, Now));
        Assert.Equal([nameof(Proposal.PersonalDataDetails)], ex.Fields.Keys);
    }

    [Fact]
    public void Requests_above_the_call_maximum_or_minimum_above_request_are_refused()
    {
        var (call, proposal, _) = Draft();
        var cluster = call.Clusters[0].ClusterId;
        Assert.Throws<DomainException>(() => proposal.UpdateDraft(Complete(call) with { Requests = [new RequestedHours(cluster, 20_001m, 0m)] }, call, Now));
        Assert.Throws<DomainException>(() => proposal.UpdateDraft(Complete(call) with { Requests = [new RequestedHours(cluster, 5_000m, 6_000m)] }, call, Now));
        Assert.Throws<DomainException>(() => proposal.UpdateDraft(Complete(call) with { Requests = [new RequestedHours(Guid.NewGuid(), 5_000m, 0m)] }, call, Now));
        Assert.Throws<DomainException>(() => proposal.UpdateDraft(Complete(call) with { Requests = [new RequestedHours(cluster, -1m, 0m)] }, call, Now));
    }

    [Fact]
    public void Complete_draft_submits_before_the_deadline_and_history_records_each_step()
    {
        var (call, proposal, pi) = Draft();
        proposal.UpdateDraft(Complete(call), call, Now);
        proposal.Submit(call, pi, call.ClosesAt!.Value.AddSeconds(-1));

        Assert.Equal(ProposalStatus.Submitted, proposal.Status);
        Assert.False(proposal.IsEditable);
        Assert.Equal([null, ProposalStatus.Draft], proposal.History.Select(h => h.FromStatus));
        Assert.Equal([ProposalStatus.Draft, ProposalStatus.Submitted], proposal.History.Select(h => h.ToStatus));
        Assert.All(proposal.History, h => Assert.Equal(pi, h.ActorUserId));
        Assert.Throws<DomainException>(() => proposal.UpdateDraft(Complete(call), call, Now));
    }

    [Fact]
    public void Submission_at_the_deadline_is_refused_as_closed()
    {
        var (call, proposal, pi) = Draft();
        proposal.UpdateDraft(Complete(call), call, Now);
        var ex = Assert.Throws<DomainException>(() => proposal.Submit(call, pi, call.ClosesAt!.Value));
        Assert.Contains("deadline has passed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ProposalStatus.Draft, proposal.Status);
    }

    [Fact]
    public void Withdrawal_is_allowed_until_a_decision_is_released()
    {
        var (call, proposal, pi) = Draft();
        proposal.UpdateDraft(Complete(call), call, Now);
        proposal.Submit(call, pi, Now);
        var admin = Guid.NewGuid();
        proposal.StartScreening(admin, Now);
        proposal.SendToReview(admin, Now, "Eligible; feasible");
        proposal.Decide(ProposalDecision.Waitlisted, admin, Now, "");
        proposal.ReleaseDecision(admin, Now);
        var ex = Assert.Throws<DomainException>(() => proposal.Withdraw(pi, Now, null));
        Assert.Contains("decision has been released", ex.Message, StringComparison.Ordinal);

        var (call2, other, pi2) = Draft();
        other.UpdateDraft(Complete(call2), call2, Now);
        other.Submit(call2, pi2, Now);
        other.Withdraw(pi2, Now, "Funded elsewhere");
        Assert.Equal(ProposalStatus.Withdrawn, other.Status);
        Assert.Equal("Funded elsewhere", other.History[^1].Reason);
        Assert.Throws<DomainException>(() => other.Withdraw(pi2, Now, null));
    }

    [Fact]
    public void Illegal_transitions_are_refused_with_a_clear_message()
    {
        var (_, proposal, pi) = Draft();
        var ex = Assert.Throws<DomainException>(() => proposal.SendToReview(pi, Now, "skip"));
        Assert.Contains("must be screening", ex.Message, StringComparison.Ordinal);
        Assert.Throws<DomainException>(() => proposal.Decide(ProposalDecision.Awarded, pi, Now, ""));
        Assert.Throws<DomainException>(() => proposal.ReleaseDecision(pi, Now));
    }

    [Fact]
    public void Team_members_are_unique_and_the_pi_cannot_be_removed()
    {
        var (_, proposal, pi) = Draft();
        var member = proposal.InviteCoInvestigator("co@example.edu", null, pi, Now);
        Assert.Throws<DomainException>(() => proposal.InviteCoInvestigator("CO@example.edu", null, pi, Now));
        Assert.Throws<DomainException>(() => proposal.RemoveMember(proposal.Members[0].Id, pi, Now));
        proposal.RemoveMember(member.Id, pi, Now);
        Assert.Single(proposal.Members);
    }

    [Theory]
    [InlineData("MZ\u0090\u0000 not a pdf", "not a PDF")]
    [InlineData("%PDF-1.7 cut off in the middle", "incomplete")]
    [InlineData("", "empty")]
    public void Attachments_are_checked_by_content_not_by_name(string content, string expected)
    {
        var bytes = System.Text.Encoding.Latin1.GetBytes(content);
        var ex = Assert.Throws<DomainException>(() => ProposalAttachment.Create(Guid.NewGuid(), "report.pdf", bytes, Guid.NewGuid(), Now));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../../etc/passwd", "passwd.pdf")]
    [InlineData("C:\\Users\\me\\plan.PDF", "plan.PDF")]
    [InlineData("bad\"name\r\n.pdf", "bad_name__.pdf")]
    [InlineData("", "attachment.pdf")]
    public void Attachment_file_names_are_made_safe(string name, string expected) =>
        Assert.Equal(expected, ProposalAttachment.SafeFileName(name));
}
