using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>
/// A call, a submitted proposal with a co-investigator and an attachment, one user per actor, and the test identity
/// provider (so the sign-in page has its buttons and the pages of a provider sign-in can be reached).
/// </summary>
public class SecurityWorld : PortalFactory
{
    /// <summary>A compliance officer (and researcher, as every account), in no team.</summary>
    public const string ComplianceOfficer = "compliance@matrix.example.org";

    /// <summary>A safety reviewer (and researcher), in no team.</summary>
    public const string SafetyReviewer = "safety@matrix.example.org";

    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Tokens { get; } = new(StringComparer.Ordinal);

    public override async Task InitializeAsync()
    {
        await UseIdentityProviderAsync();
        await base.InitializeAsync();
        var call = await this.CreateOpenCallAsync("matrix-call");
        var owner = await this.CreateUserAsync("owner@matrix.example.edu");
        var co = await this.CreateUserAsync("co@matrix.example.edu");
        var otherResearcher = await this.CreateUserAsync("other@matrix.example.edu");
        await this.CreateUserAsync("admin@matrix.example.org", [Roles.Admin, Roles.Researcher]);
        await this.CreateUserAsync(ComplianceOfficer, [Roles.Compliance, Roles.Researcher], institution: "Program");
        await this.CreateUserAsync(SafetyReviewer, [Roles.Safety, Roles.Researcher], institution: "Program");
        await using var db = NewDbContext();
        var dbCall = await db.Calls.SingleAsync(c => c.Id == call.Id);
        var now = Clock.GetUtcNow();
        var proposal = SubmittedProposal(dbCall, owner.Id, "Matrix proposal", call.ClusterId, now, p => p.AddCoInvestigator(co.Email!, co.Id, now));
        db.Proposals.Add(proposal);
        // Another researcher's proposal that declares personal data: it is in the safety track.
        var flagged = SubmittedProposal(dbCall, otherResearcher.Id, "Matrix safety proposal", call.ClusterId, now, personalData: true);
        db.Proposals.Add(flagged);
        var attachment = Meta.ComputeAccess.Proposals.ProposalAttachment.Create(proposal.Id, "a.pdf", TestCalls.Pdf(), owner.Id, Clock.GetUtcNow());
        db.ProposalAttachments.Add(attachment);
        await db.SaveChangesAsync();
        Values["slug"] = call.Slug;
        Values["id"] = proposal.Id.ToString();
        Values["safetyId"] = flagged.Id.ToString();
        Values["attachmentId"] = attachment.Id.ToString();
        Values["code"] = "404";
        Values["clusterSlug"] = await db.Clusters.Where(c => c.Id == call.ClusterId).Select(c => c.Slug).SingleAsync();
        Values["ownerId"] = owner.Id.ToString();
        Values["clusterId"] = call.ClusterId.ToString();

        // An allocation of the owner's (for the proposal, so its co-investigator sees it too), and a second cluster, each with an API token.
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var period = Meta.ComputeAccess.Allocations.AllocationPeriod.Create("Matrix period", today.AddDays(-10), today.AddDays(200), now);
        db.AllocationPeriods.Add(period);
        db.ClusterCapacities.Add(Meta.ComputeAccess.Allocations.ClusterCapacity.Create(call.ClusterId, period.Id, 100_000m, 1m, 0m, now));
        var other = Meta.ComputeAccess.Clusters.Cluster.Create("Other cluster", "other-cluster", "MTIA v2", 4, 8, "other", now);
        db.Clusters.Add(other);
        await db.SaveChangesAsync();
        Values["periodId"] = period.Id.ToString();
        await WithScopeAsync(async sp =>
        {
            var allocation = await sp.GetRequiredService<Meta.ComputeAccess.Allocations.AllocationService>().CreateAsync(
                new Meta.ComputeAccess.Allocations.NewAllocation(period.Id, owner.Id, "Matrix allocation", today, today.AddDays(100),
                    new Dictionary<Guid, decimal> { [call.ClusterId] = 1_000m }, ProposalId: proposal.Id, SlurmAccount: "matrix-acct"), null);
            Values["allocationId"] = allocation.Id.ToString();
            // A progress report the team owes, as the daily job asks for it.
            var report = Meta.ComputeAccess.Allocations.ProgressReport.Request(allocation.Id, Meta.ComputeAccess.Allocations.ProgressReportKind.Progress, today.AddDays(30), now);
            var reportDb = sp.GetRequiredService<Meta.ComputeAccess.Data.PortalDbContext>();
            reportDb.ProgressReports.Add(report);
            await reportDb.SaveChangesAsync();
            Values["reportId"] = report.Id.ToString();
            var tokens = sp.GetRequiredService<Meta.ComputeAccess.Clusters.ClusterTokens>();
            Tokens["own"] = (await tokens.CreateAsync(Values["clusterSlug"], "own", null)).Secret;
            Tokens["other"] = (await tokens.CreateAsync("other-cluster", "other", null)).Secret;
            var (revoked, secret) = await tokens.CreateAsync(Values["clusterSlug"], "revoked", null);
            await tokens.RevokeAsync(revoked.Id, null);
            Tokens["revoked"] = secret;
            // A job of an unknown account, so the unmatched-usage page has something to resolve.
            var parsed = Meta.ComputeAccess.Usage.SacctParser.Parse(new StringReader(
                "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n990001|typo-acct|eve|2026-01-01T00:00:00|2026-01-01T01:00:00|3600|gres/gpu=1|COMPLETED\n"),
                Meta.ComputeAccess.Usage.UsageBodyFormat.SacctParsable2);
            await sp.GetRequiredService<Meta.ComputeAccess.Usage.UsageIngest>().IngestAsync(call.ClusterId, parsed);
        });

        // Reviewers: one assigned to the proposal, one conflicted with it (same institution domain as the owner),
        // and one in the pool of another call only. Reviewing starts after the call closes and the proposal is screened.
        var assigned = await this.CreateUserAsync("rev.assigned@review.example.org", [Roles.Reviewer, Roles.Researcher], institution: "Assigned Institute");
        await this.CreateUserAsync("rev.conflicted@matrix.example.edu", [Roles.Reviewer, Roles.Researcher], institution: "Conflicted Institute");
        await this.CreateUserAsync("rev.other@other.example.org", [Roles.Reviewer, Roles.Researcher], institution: "Other Institute");
        var admin = await db.Users.Where(u => u.Email == "admin@matrix.example.org").Select(u => u.Id).SingleAsync();
        var otherCall = await this.CreateOpenCallAsync("matrix-other");
        Values["otherSlug"] = otherCall.Slug;
        await using (var closing = NewDbContext())
        {
            (await closing.Calls.SingleAsync(c => c.Id == call.Id)).Close(Clock.GetUtcNow());
            await closing.SaveChangesAsync();
        }
        await WithScopeAsync(async sp =>
        {
            // Each review service call saves its own change, as the pages use them; adding to the pool detects conflicts.
            await sp.GetRequiredService<Meta.ComputeAccess.Review.ScreeningService>().ScreenAsync(proposal.Id,
                new Meta.ComputeAccess.Review.ScreeningInput(true, "", Meta.ComputeAccess.Review.TechnicalCheck.Pass, "", new Dictionary<Guid, decimal>()), admin, default);
            var pool = sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewerPool>();
            await pool.AddAsync(call.Id, "rev.assigned@review.example.org", admin, default);
            await pool.AddAsync(call.Id, "rev.conflicted@matrix.example.edu", admin, default);
            await pool.AddAsync(otherCall.Id, "rev.other@other.example.org", admin, default);
            var review = await sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewAssignments>().AssignAsync(proposal.Id, assigned.Id, admin, default);
            Values["reviewId"] = review.Id.ToString();
        });
        await AddRightToReplyAndAppealsAsync(owner.Id, assigned.Id, admin);
        Values["path"] = "";
    }

    /// <summary>
    /// A call at the right-to-reply and appeal steps, for the owner's and the admin's forms: "replyId" awaits its team's
    /// response (the call's response phase is open), "appealId" has a released decision, "appealedId" a released decision
    /// its team appealed.
    /// </summary>
    private async Task AddRightToReplyAndAppealsAsync(Guid owner, Guid reviewer, Guid admin)
    {
        var reply = await this.CreateOpenCallAsync("matrix-reply");
        var now = Clock.GetUtcNow();
        List<Guid> ids;
        Guid criterion;
        await using (var db = NewDbContext())
        {
            var call = await db.Calls.SingleAsync(c => c.Id == reply.Id);
            criterion = call.Rubric[0].Id;
            var proposals = new[] { "Matrix reply", "Matrix appeal", "Matrix appealed" }.Select(t => SubmittedProposal(call, owner, t, reply.ClusterId, now)).ToList();
            db.Proposals.AddRange(proposals);
            call.Close(now);
            await db.SaveChangesAsync();
            ids = [.. proposals.Select(p => p.Id)];
        }
        await WithScopeAsync(async sp =>
        {
            await sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewerPool>().AddAsync(reply.Id, "rev.assigned@review.example.org", admin, default);
            var review = new Meta.ComputeAccess.Review.ReviewContent(new Dictionary<Guid, int?> { [criterion] = 4 }, 7, 2,
                new Dictionary<Guid, decimal?> { [reply.ClusterId] = 1_000m }, "Comments for the applicants of the matrix call.", "");
            foreach (var id in ids)
            {
                await sp.GetRequiredService<Meta.ComputeAccess.Review.ScreeningService>().ScreenAsync(id,
                    new Meta.ComputeAccess.Review.ScreeningInput(true, "", Meta.ComputeAccess.Review.TechnicalCheck.Pass, "", new Dictionary<Guid, decimal>()), admin, default);
                await sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewAssignments>().AssignAsync(id, reviewer, admin, default);
                await sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewWriting>().SaveAsync(id, reviewer, review, submit: true, default);
            }
            var decisions = sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewDecisions>();
            foreach (var id in ids.Skip(1))
            {
                await decisions.DecideAsync(id, Meta.ComputeAccess.Proposals.ProposalDecision.Declined, null, "Declined in the matrix.", admin, default);
            }
            await decisions.ReleaseAsync(reply.Id, admin, default);
            await sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewResponses>().OpenAsync(reply.Id, now.AddDays(30), admin, default);
            await sp.GetRequiredService<Meta.ComputeAccess.Review.DecisionAppeals>().FileAsync(ids[2], owner, "The matrix decision overlooked our pilot results.", default);
        });
        Values["replyId"] = ids[0].ToString();
        Values["appealId"] = ids[1].ToString();
        Values["appealedId"] = ids[2].ToString();
    }

    internal static Meta.ComputeAccess.Proposals.Proposal SubmittedProposal(
        Meta.ComputeAccess.Calls.Call call, Guid owner, string title, Guid clusterId, DateTimeOffset now, Action<Meta.ComputeAccess.Proposals.Proposal>? team = null,
        bool personalData = false)
    {
        var proposal = Meta.ComputeAccess.Proposals.Proposal.StartDraft(call, owner, title, now);
        team?.Invoke(proposal);
        proposal.UpdateDraft(new Meta.ComputeAccess.Proposals.ProposalContent(
            title, new string('a', 120), ["access"], "Other", new string('j', 120), personalData, personalData ? "Interview transcripts, pseudonymised at collection." : "", false, "", "MIT licence",
            Meta.ComputeAccess.Proposals.PlannedOutputs.Code, "", [new Meta.ComputeAccess.Proposals.RequestedHours(clusterId, 5_000m, 1_000m)], false, ""), call, now);
        proposal.Submit(call, owner, now);
        return proposal;
    }
}
