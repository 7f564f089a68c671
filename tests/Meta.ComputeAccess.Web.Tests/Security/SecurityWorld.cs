using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>A call, a submitted proposal with a co-investigator and an attachment, and one user per actor.</summary>
public class SecurityWorld : PortalFactory
{
    /// <summary>A compliance officer (and researcher, as every account), in no team.</summary>
    public const string ComplianceOfficer = "compliance@matrix.example.org";

    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Tokens { get; } = new(StringComparer.Ordinal);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var call = await this.CreateOpenCallAsync("matrix-call");
        var owner = await this.CreateUserAsync("owner@matrix.example.edu");
        var co = await this.CreateUserAsync("co@matrix.example.edu");
        await this.CreateUserAsync("other@matrix.example.edu");
        await this.CreateUserAsync("admin@matrix.example.org", [Roles.Admin, Roles.Researcher]);
        await this.CreateUserAsync(ComplianceOfficer, [Roles.Compliance, Roles.Researcher], institution: "Program");
        await using var db = NewDbContext();
        var dbCall = await db.Calls.SingleAsync(c => c.Id == call.Id);
        var now = Clock.GetUtcNow();
        var proposal = Meta.ComputeAccess.Proposals.Proposal.StartDraft(dbCall, owner.Id, "Matrix proposal", now);
        proposal.InviteCoInvestigator(co.Email!, co.Id, owner.Id, now);
        proposal.UpdateDraft(new Meta.ComputeAccess.Proposals.ProposalContent(
            "Matrix proposal", new string('a', 120), ["access"], "Other", new string('j', 120), false, "", false, "", "MIT licence",
            Meta.ComputeAccess.Proposals.PlannedOutputs.Code, "", [new Meta.ComputeAccess.Proposals.RequestedHours(call.ClusterId, 5_000m, 1_000m)]), dbCall, now);
        proposal.Submit(dbCall, owner.Id, now);
        db.Proposals.Add(proposal);
        var attachment = Meta.ComputeAccess.Proposals.ProposalAttachment.Create(proposal.Id, "a.pdf", TestCalls.Pdf(), owner.Id, Clock.GetUtcNow());
        db.ProposalAttachments.Add(attachment);
        await db.SaveChangesAsync();
        Values["slug"] = call.Slug;
        Values["id"] = proposal.Id.ToString();
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
        Values["path"] = "";
    }
}
