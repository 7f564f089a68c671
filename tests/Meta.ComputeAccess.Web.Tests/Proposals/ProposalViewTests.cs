using System.Collections;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Pages.Shared;
using Meta.ComputeAccess.Web.Tests.Dashboard;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Proposals;

/// <summary>
/// The proposal pages' read model (<see cref="ProposalView"/>), built by one SQL statement: one command, and every field
/// the same as the entities EF loads, for a proposal with something in every field (a renamed column or a field added
/// to the read model without its SQL fails here).
/// </summary>
public sealed class ProposalViewTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_view_is_one_command_and_says_what_the_entities_say()
    {
        var now = factory.Clock.GetUtcNow();
        var admin = await factory.CreateUserAsync("admin@view-model.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var pi = await factory.CreateUserAsync("pi@view-model.example.edu", institution: "Lakeside University");
        var co = await factory.CreateUserAsync("co@view-model.example.edu", institution: "Northfield College");
        var reviewer = await factory.CreateUserAsync("reviewer@view-model.example.org", [Roles.Reviewer, Roles.Researcher], "Reviewer Institute");
        var stranger = await factory.CreateUserAsync("stranger@view-model.example.edu");
        Guid id;
        await using (var db = factory.NewDbContext())
        {
            var (call, cluster) = DashboardWorld.NewCall("view-model", now);
            var other = Cluster.Create("Another cluster", "c-view-model-2", "A100 40GB", 8, 4, "cviewmodel2", now);
            call.OfferCluster(other.Id, 500_000m, 100m, 50_000m);
            call.AddCriterion("Feasibility", "Can it be done?", 25m);
            db.Clusters.AddRange(cluster, other);
            db.Calls.Add(call);
            var p = Proposal.StartDraft(call, pi.Id, "Working title", now);
            p.UpdateDraft(new ProposalContent("Speech models for every language", "An **abstract** long enough. " + new string('a', 100),
                ["speech", "low-resource"], "Speech and audio", "Why these hours. " + new string('j', 100),
                true, "Recordings of consenting speakers, pseudonymised.", true, "Voice cloning: released under a gated licence.",
                "Apache-2.0 code, CC BY data", PlannedOutputs.Papers | PlannedOutputs.Code, "A paper and the code.",
                [new RequestedHours(cluster.Id, 10_000m, 5_000m)], true, "Speakers consent; approved by the ethics board."), call, now);
            p.AcceptInvitation(p.InviteCoInvestigator(co.Email!, co.Id, pi.Id, now).Id, co.Id, co.NormalizedEmail!, now);
            p.InviteCoInvestigator("later@view-model.example.edu", null, pi.Id, now.AddMinutes(1));
            db.Proposals.Add(p);
            db.ProposalAttachments.Add(ProposalAttachment.Create(p.Id, "plan.pdf", TestCalls.Pdf(), pi.Id, now));
            p.Submit(call, pi.Id, now);
            p.StartScreening(admin.Id, now);
            p.SendToReview(admin.Id, now, "Screening passed");
            p.RecordReviewerChange(true, admin.Id, now);
            db.Reviews.Add(ProposalReview.Assign(call.Id, p.Id, reviewer.Id, admin.Id, null, now));
            p.Decide(ProposalDecision.Awarded, [new AwardedHours(cluster.Id, 8_000m)], admin.Id, now, "Congratulations.");
            p.ReleaseDecision(admin.Id, now);
            p.AcceptAward(pi.Id, now, new PublicListing("Speech models for languages with little data.", ShowUsage: true));
            await db.SaveChangesAsync();
            id = p.Id;
            // What only an identity provider or ORCID fills in.
            await db.Database.ExecuteSqlAsync($"UPDATE users SET institution_verified = true, orcid_id = '0000-0002-1825-0097', orcid_id_verified = true, verified_affiliations = '{{faculty@lakeside.example.edu,member@lakeside.example.edu}}' WHERE id = {pi.Id}");
        }

        var counter = new SqlCommandCounter();
        var options = new DbContextOptionsBuilder<PortalDbContext>();
        PortalDatabase.Configure(options, factory.ConnectionString);
        await using var read = new PortalDbContext(options.AddInterceptors(counter).Options);
        var view = await ProposalView.LoadAsync(read, read.Proposals.VisibleTo(Viewer.Applicant(pi.Id)), id, CancellationToken.None);

        Assert.NotNull(view);
        var sent = counter.TextsOf(read);
        Assert.Single(sent);
        Assert.DoesNotContain("ROW_NUMBER()", sent[0], StringComparison.Ordinal);

        await using var db2 = factory.NewDbContext();
        var entity = await db2.Proposals.AsNoTracking().Include(x => x.Requests).Include(x => x.Awards).Include(x => x.History).AsSplitQuery().SingleAsync(x => x.Id == id);
        var callEntity = await db2.Calls.AsNoTracking().AsSplitQuery().SingleAsync(c => c.Id == entity.CallId);
        SameFields(entity, view.Proposal, nameof(ProposalView.ProposalFacts.Requests), nameof(ProposalView.ProposalFacts.Awards));
        Assert.Equal(entity.Requests.Select(r => new RequestedHours(r.ClusterId, r.RequestedHours, r.MinimumViableHours)), view.Proposal.Requests);
        Assert.Equal(entity.Awards.Select(a => new AwardedHours(a.ClusterId, a.Hours)), view.Proposal.Awards);
        Assert.True(view.Proposal.ListedPublicly);
        SameFields(callEntity, view.Call, nameof(ProposalView.CallFacts.Rubric));
        Assert.Equal(callEntity.Rubric.OrderBy(c => c.Position).Select(c => new ProposalView.CriterionLine(c.Id, c.Position, c.Name, c.Guidance, c.Weight)), view.Call.Rubric);
        Assert.Equal(2, view.Call.Rubric.Count);

        // Every cluster the call offers, by name, with what is asked of it.
        Assert.Equal(["Another cluster", "Cluster view-model"], view.Requests.Select(r => r.Cluster));
        Assert.Equal([0m, 10_000m], view.Requests.Select(r => r.Requested));
        Assert.Equal([0m, 5_000m], view.Requests.Select(r => r.MinimumViable));
        Assert.Equal([50_000m, 100_000m], view.Requests.Select(r => r.MaxAllowed));

        // The PI first, then the team in the order invited; a pending invitation is its address.
        Assert.Equal([pi.FullName, co.FullName, "later@view-model.example.edu"], view.Team.Select(m => m.Name));
        Assert.Equal([pi.Id, co.Id, (Guid?)null], view.Team.Select(m => m.UserId));
        Assert.Equal([false, false, true], view.Team.Select(m => m.Pending));
        var lead = view.Team[0];
        Assert.Equal((MemberRole.PrincipalInvestigator, pi.Email, "Lakeside University", true, "0000-0002-1825-0097", true),
            (lead.Role, lead.Email, lead.Institution, lead.InstitutionVerified, lead.OrcidId, lead.OrcidIdVerified));
        Assert.Equal(["faculty@lakeside.example.edu", "member@lakeside.example.edu"], lead.Affiliations!);
        Assert.Equal(("Northfield College", false, (string?)null), (view.Team[1].Institution, view.Team[1].InstitutionVerified, view.Team[1].OrcidId));
        Assert.Equal("Lakeside University", view.PiInstitution);

        // The whole timeline, in order, with who took each step.
        var names = new Dictionary<Guid, string> { [pi.Id] = pi.FullName, [co.Id] = co.FullName, [admin.Id] = admin.FullName };
        Assert.Equal(entity.History.OrderBy(h => h.Id).Select(h => new ProposalView.HistoryLine(h.At, h.ActorUserId, h.ActorUserId is { } a ? names[a] : null, h.FromStatus, h.ToStatus, h.Reason)),
            view.Timeline);
        Assert.Equal(["plan.pdf"], view.Attachments.Select(a => a.FileName));
        Assert.Equal(TestCalls.Pdf().Length, view.Attachments[0].SizeBytes);
        Assert.Equal([reviewer.Id], view.Reviewers);

        // Whatever the session's time zone, PostgreSQL's JSON says the same instants, and they are read in UTC.
        await using (var elsewhere = factory.NewDbContext())
        {
            await elsewhere.Database.OpenConnectionAsync();
            await elsewhere.Database.ExecuteSqlRawAsync("SET TIME ZONE 'Asia/Kolkata'");
            var there = await ProposalView.LoadAsync(elsewhere, elsewhere.Proposals, id, CancellationToken.None);
            Assert.Equal(view.Timeline.Select(h => h.At), there!.Timeline.Select(h => h.At));
            Assert.All(there.Timeline, h => Assert.Equal(TimeSpan.Zero, h.At.Offset));
            Assert.Equal(TimeSpan.Zero, there.Proposal.DecisionReleasedAt!.Value.Offset);
        }

        // The scope decides: a stranger finds nothing, the assigned reviewer finds it, an unknown id is nothing.
        Assert.Null(await ProposalView.LoadAsync(read, read.Proposals.VisibleTo(Viewer.Applicant(stranger.Id)), id, CancellationToken.None));
        Assert.NotNull(await ProposalView.LoadAsync(read, read.Proposals.AssignedTo(reviewer.Id), id, CancellationToken.None));
        Assert.Null(await ProposalView.LoadAsync(read, read.Proposals, Guid.NewGuid(), CancellationToken.None));
    }

    /// <summary>Each field of the read model <paramref name="facts"/> equals the entity's field of the same name.</summary>
    private static void SameFields(object entity, object facts, params string[] except)
    {
        var fields = facts.GetType().GetProperties().Where(f => f.GetIndexParameters().Length == 0 && f.Name != "EqualityContract" && !except.Contains(f.Name)).ToList();
        Assert.True(fields.Count > 8, $"{facts.GetType().Name} has {fields.Count} fields");
        foreach (var field in fields)
        {
            var same = entity.GetType().GetProperty(field.Name);
            Assert.True(same is not null, $"{entity.GetType().Name} has no {field.Name}");
            object? expected = same.GetValue(entity), actual = field.GetValue(facts);
            if (expected is IEnumerable list and not string)
            {
                Assert.Equal(list.Cast<object>(), ((IEnumerable)actual!).Cast<object>());
            }
            else
            {
                Assert.True(Equals(expected, actual), $"{field.Name}: the entity says {expected}, the view {actual}");
            }
        }
    }
}
