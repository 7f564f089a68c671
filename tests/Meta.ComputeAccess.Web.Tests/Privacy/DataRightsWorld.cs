using System.Text;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Privacy;

/// <summary>
/// The access-matrix world plus a person whose traces are everywhere: Ingrid Castellanos is a co-investigator (by an
/// accepted invitation) of a submitted proposal, a member of the owner's allocation, a reviewer who submitted a review
/// beside the assigned reviewer's, the PI of a draft with an attachment, the holder of a cluster login, the subject of
/// a screening hit and of another reviewer's declared collaborators, and signed in.
/// </summary>
public sealed class DataRightsWorld : SecurityWorld
{
    public const string Email = "ingrid.castellanos@closing.example.org";
    public const string Name = "Ingrid Castellanos";
    public const string OwnReview = "Ingrid's own review: the scaling plan is sound.";
    public const string OtherReview = "The assigned reviewer's private verdict on the matrix proposal.";
    public const string OtherConfidential = "Confidential note only the program may read.";

    public Guid PersonId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var person = await this.CreateUserAsync(Email, [Roles.Researcher, Roles.Reviewer], institution: "Castellanos Lab");
        PersonId = person.Id;
        var owner = Guid.Parse(Values["ownerId"]);
        var proposalId = Guid.Parse(Values["id"]);
        var clusterId = Guid.Parse(Values["clusterId"]);
        Guid teamProposal;
        await using (var db = NewDbContext())
        {
            var user = await db.Users.SingleAsync(u => u.Id == person.Id);
            user.FullName = Name;
            user.ChangeOrcidId("0000-0002-1825-0097");
            var now = Clock.GetUtcNow();
            var open = await db.Calls.SingleAsync(c => c.Slug == Values["otherSlug"]);
            var proposal = SubmittedProposal(open, owner, "Team proposal with Ingrid", open.Clusters[0].ClusterId, now, p => p.AddCoInvestigator(Email, person.Id, now));
            db.Proposals.Add(proposal);
            var draft = Meta.ComputeAccess.Proposals.Proposal.StartDraft(open, person.Id, "Ingrid's unfinished draft", now);
            db.Proposals.Add(draft);
            db.ProposalAttachments.Add(Meta.ComputeAccess.Proposals.ProposalAttachment.Create(draft.Id, "draft-plan.pdf", TestCalls.Pdf(), person.Id, now));
            await db.SaveChangesAsync();
            teamProposal = proposal.Id;
            Values["draftOfPerson"] = draft.Id.ToString();
            Values["teamProposal"] = proposal.Id.ToString();
        }
        var admin = await AdminAsync();
        await WithScopeAsync(async sp =>
        {
            var allocationId = Guid.Parse(Values["allocationId"]);
            var members = sp.GetRequiredService<Meta.ComputeAccess.Allocations.AllocationMembers>();
            await members.InviteAsync(allocationId, Viewer.Applicant(owner), Email);
            await members.AcceptAsync(allocationId, person.Id);
            await sp.GetRequiredService<Meta.ComputeAccess.Clusters.ClusterLogins>().SetAsync(clusterId, Email, "icastellanos", admin);
            var pool = sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewerPool>();
            await pool.DeclareCollaboratorAsync(person.Id, "former.colleague@elsewhere.example.org", default);
            // Another reviewer names her as a collaborator: her address in someone else's row.
            var assigned = await UserIdAsync("rev.assigned@review.example.org");
            await pool.DeclareCollaboratorAsync(assigned, Email, default);
        });
        await WithScopeAsync(async sp =>
        {
            var call = await sp.GetRequiredService<Meta.ComputeAccess.Data.PortalDbContext>().Calls.AsNoTracking().SingleAsync(c => c.Slug == Values["slug"]);
            await sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewerPool>().AddAsync(call.Id, Email, admin, default);
            await sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewAssignments>().AssignAsync(proposalId, person.Id, admin, default);
            var writing = sp.GetRequiredService<Meta.ComputeAccess.Review.ReviewWriting>();
            await writing.SaveAsync(proposalId, person.Id, Review(call, clusterId, 3, OwnReview, ""), submit: true, default);
            await writing.SaveAsync(proposalId, await UserIdAsync("rev.assigned@review.example.org"), Review(call, clusterId, 5, OtherReview, OtherConfidential), submit: true, default);
        });
        // A screening list whose entry is her name written another way: the hit names her as the portal has her.
        await WithScopeAsync(async sp =>
        {
            var csv = Encoding.UTF8.GetBytes("id,name,countries\nR-7,\"CASTELLANOS, Ingrid\",GB\n");
            var officer = await UserIdAsync(ComplianceOfficer);
            await sp.GetRequiredService<Meta.ComputeAccess.Compliance.ScreeningLists>().ImportAsync(
                new Meta.ComputeAccess.Compliance.ScreeningListUpload("Rights list", Meta.ComputeAccess.Compliance.ScreeningListFormat.Auto, "rights.csv", csv.Length, new MemoryStream(csv)), officer, default);
            await sp.GetRequiredService<Meta.ComputeAccess.Compliance.PartyScreening>().ScreenProposalsAsync([teamProposal], default);
        });
    }

    private static Meta.ComputeAccess.Review.ReviewContent Review(Meta.ComputeAccess.Calls.Call call, Guid clusterId, int overall, string comments, string confidential) =>
        new(new Dictionary<Guid, int?> { [call.Rubric[0].Id] = 4 }, overall, 2, new Dictionary<Guid, decimal?> { [clusterId] = 1_000m }, comments, confidential);

    public Task<Guid> AdminAsync() => UserIdAsync("admin@matrix.example.org");

    public async Task<Guid> UserIdAsync(string email)
    {
        await using var db = NewDbContext();
        return await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
    }
}
