using System.Net;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Pages.Shared;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Proposals;

/// <summary>The Proposals module's writes (ProposalEditing, ProposalTeam, ProposalAttachments) and its visibility scope.</summary>
public sealed class ProposalModuleTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private static ProposalContent Complete(Guid clusterId, string title = "Open speech models for low-resource languages") => new(
        title,
        new string('a', 120),
        ["speech"],
        "Speech and audio",
        new string('j', 120),
        false, "", false, "", "Apache-2.0 code, CC BY data",
        PlannedOutputs.Papers, "",
        [new RequestedHours(clusterId, 10_000m, 5_000m)], false, "");

    private Task<T> WithAsync<TService, T>(Func<TService, Task<T>> action)
        where TService : notnull =>
        factory.WithScopeAsync(sp => action(sp.GetRequiredService<TService>()));

    private async Task<(Guid Id, Guid Pi, TestCalls.OpenCall Call)> DraftAsync(string slug)
    {
        var call = await factory.CreateOpenCallAsync(slug);
        var pi = await factory.CreateUserAsync($"pi@{slug}.example.edu");
        var id = await WithAsync<ProposalEditing, Guid?>(e => e.StartDraftAsync(slug, pi.Id, "Working title"));
        return (id!.Value, pi.Id, call);
    }

    /// <summary>The PI invites <paramref name="co"/>, who accepts: a co-investigator on the team.</summary>
    private async Task JoinAsync(Guid id, Guid pi, PortalUser co)
    {
        await WithAsync<ProposalTeam, TeamInvitation?>(t => t.InviteAsync(id, pi, co.Email!));
        await using var db = factory.NewDbContext();
        var invitation = await db.ProposalMembers.Where(m => m.ProposalId == id && m.InvitedEmailNormalized == co.NormalizedEmail).Select(m => m.Id).SingleAsync();
        Assert.True(await WithAsync<ProposalTeam, bool>(t => t.AcceptAsync(invitation, co.Id)));
    }

    private async Task<uint> VersionAsync(Guid id)
    {
        await using var db = factory.NewDbContext();
        return await db.Proposals.Where(p => p.Id == id).Select(p => p.Version).SingleAsync();
    }

    /// <summary>What a write could have changed on a proposal: its row, its timeline, its team, its files and the notices.</summary>
    private async Task<string> FootprintAsync(Guid id)
    {
        await using var db = factory.NewDbContext();
        var p = await db.Proposals.AsNoTracking().Where(p => p.Id == id).Select(p => new { p.Version, p.Status, p.Title }).SingleAsync();
        var history = await db.ProposalHistory.CountAsync(h => h.ProposalId == id);
        var members = await db.ProposalMembers.CountAsync(m => m.ProposalId == id);
        var files = await db.ProposalAttachments.CountAsync(a => a.ProposalId == id);
        var notices = await db.Notifications.CountAsync() + await db.OutboxMessages.CountAsync();
        return $"{p} history={history} members={members} files={files} notices={notices}";
    }

    [Fact]
    public async Task A_refused_submission_names_the_missing_fields_and_saves_nothing()
    {
        var (id, pi, _) = await DraftAsync("module-refused");
        var version = await VersionAsync(id);
        var before = await FootprintAsync(id);

        var refused = await Assert.ThrowsAsync<DomainException>(() => WithAsync<ProposalEditing, bool>(e => e.SubmitAsync(id, pi, version)));

        Assert.Contains(nameof(Proposal.AbstractMarkdown), refused.Fields.Keys);
        Assert.Contains(nameof(Proposal.Requests), refused.Fields.Keys);
        Assert.Equal(before, await FootprintAsync(id));
    }

    [Fact]
    public async Task A_submission_notifies_the_joined_team_in_the_same_save()
    {
        var (id, pi, call) = await DraftAsync("module-submit");
        var co = await factory.CreateUserAsync("co@module-submit.example.edu");
        await JoinAsync(id, pi, co);
        var version = await VersionAsync(id);
        version = (await WithAsync<ProposalEditing, uint?>(e => e.SaveDraftAsync(id, co.Id, version, Complete(call.ClusterId))))!.Value;

        Assert.True(await WithAsync<ProposalEditing, bool>(e => e.SubmitAsync(id, co.Id, version)));

        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.Submitted, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        var notified = await db.Notifications.Where(n => n.Kind == NotificationKinds.ProposalSubmitted && n.Link == $"/Proposals/Details/{id}").Select(n => n.UserId).ToListAsync();
        Assert.Equal(new[] { pi, co.Id }.Order(), notified.Order());
    }

    [Fact]
    public async Task A_save_from_a_stale_form_is_refused_with_the_message_and_the_teammates_save_stays()
    {
        var (id, pi, call) = await DraftAsync("module-stale");
        var version = await VersionAsync(id);
        Assert.NotNull(await WithAsync<ProposalEditing, uint?>(e => e.SaveDraftAsync(id, pi, version, Complete(call.ClusterId, "The first teammate's title"))));

        var refused = await Assert.ThrowsAsync<DomainException>(() =>
            WithAsync<ProposalEditing, uint?>(e => e.SaveDraftAsync(id, pi, version, Complete(call.ClusterId, "The second, stale title"))));

        Assert.Equal(ProposalEditing.ConcurrentSaveMessage, refused.Message);
        await using var db = factory.NewDbContext();
        Assert.Equal("The first teammate's title", await db.Proposals.Where(p => p.Id == id).Select(p => p.Title).SingleAsync());
    }

    [Fact]
    public async Task Someone_not_on_the_team_admins_included_finds_nothing_to_change()
    {
        var (id, pi, call) = await DraftAsync("module-outsider");
        var pdf = TestCalls.Pdf();
        Assert.True(await WithAsync<ProposalAttachments, bool>(a => a.UploadAsync(id, pi, "plan.pdf", pdf.Length, new MemoryStream(pdf))));
        await using (var db = factory.NewDbContext())
        {
            var attachmentId = await db.ProposalAttachments.Where(a => a.ProposalId == id).Select(a => a.Id).SingleAsync();
            var piMember = await db.ProposalMembers.Where(m => m.ProposalId == id).Select(m => m.Id).SingleAsync();
            var outsider = await factory.CreateUserAsync("outsider@module-outsider.example.edu");
            var admin = await factory.CreateUserAsync("admin@module-outsider.example.org", [Roles.Admin, Roles.Researcher]);
            var version = await VersionAsync(id);
            var before = await FootprintAsync(id);
            foreach (var who in new[] { outsider.Id, admin.Id })
            {
                Assert.Null(await WithAsync<ProposalEditing, uint?>(e => e.SaveDraftAsync(id, who, version, Complete(call.ClusterId, "Hijacked"))));
                Assert.False(await WithAsync<ProposalEditing, bool>(e => e.SubmitAsync(id, who, version)));
                Assert.False(await WithAsync<ProposalEditing, bool>(e => e.WithdrawAsync(id, who, "not mine")));
                Assert.Null(await WithAsync<ProposalTeam, TeamInvitation?>(t => t.InviteAsync(id, who, "friend@example.edu")));
                Assert.False(await WithAsync<ProposalTeam, bool>(t => t.RemoveAsync(id, who, piMember)));
                Assert.False(await WithAsync<ProposalAttachments, bool>(a => a.UploadAsync(id, who, "x.pdf", pdf.Length, new MemoryStream(pdf))));
                Assert.False(await WithAsync<ProposalAttachments, bool>(a => a.RemoveAsync(id, who, attachmentId)));
                Assert.Null(await factory.WithScopeAsync(sp => sp.GetRequiredService<ProposalAttachments>()
                    .FindForDownloadAsync(sp.GetRequiredService<PortalDbContext>().Proposals.VisibleTo(Viewer.Applicant(who)), id, attachmentId)));
            }
            Assert.Equal(before, await FootprintAsync(id));
            var own = await factory.WithScopeAsync(sp => sp.GetRequiredService<ProposalAttachments>()
                .FindForDownloadAsync(sp.GetRequiredService<PortalDbContext>().Proposals.VisibleTo(Viewer.Applicant(pi)), id, attachmentId));
            Assert.Equal(pdf, own?.Content);
        }
    }

    [Fact]
    public async Task A_coinvestigator_edits_the_draft_but_only_the_pi_changes_the_team()
    {
        var (id, pi, call) = await DraftAsync("module-coi");
        var co = await factory.CreateUserAsync("co@module-coi.example.edu");
        var invited = await WithAsync<ProposalTeam, TeamInvitation?>(t => t.InviteAsync(id, pi, "  CO@module-coi.example.edu "));
        Assert.Equal(new TeamInvitation("CO@module-coi.example.edu"), invited);
        // Invited is not on the team: nothing to edit until the invitation is accepted.
        Assert.Null(await WithAsync<ProposalEditing, uint?>(async e => await e.SaveDraftAsync(id, co.Id, await VersionAsync(id), Complete(call.ClusterId, "Edited too early"))));
        await using (var db = factory.NewDbContext())
        {
            var invitation = await db.ProposalMembers.Where(m => m.ProposalId == id && m.UserId == null).Select(m => m.Id).SingleAsync();
            Assert.False(await WithAsync<ProposalTeam, bool>(t => t.AcceptAsync(invitation, pi)));
            Assert.True(await WithAsync<ProposalTeam, bool>(t => t.AcceptAsync(invitation, co.Id)));
        }

        Assert.NotNull(await WithAsync<ProposalEditing, uint?>(async e => await e.SaveDraftAsync(id, co.Id, await VersionAsync(id), Complete(call.ClusterId, "Edited by the co-investigator"))));
        var before = await FootprintAsync(id);

        var refused = await Assert.ThrowsAsync<DomainException>(() => WithAsync<ProposalTeam, TeamInvitation?>(t => t.InviteAsync(id, co.Id, "third@example.edu")));
        Assert.Equal("Only the principal investigator can change the team.", refused.Message);
        Assert.Equal(before, await FootprintAsync(id));
    }

    [Fact]
    public async Task A_fourth_attachment_and_any_file_change_after_submission_are_refused_and_store_nothing()
    {
        var (id, pi, call) = await DraftAsync("module-files");
        var pdf = TestCalls.Pdf();
        for (var i = 0; i < Proposal.MaxAttachments; i++)
        {
            Assert.True(await WithAsync<ProposalAttachments, bool>(a => a.UploadAsync(id, pi, $"part{i}.pdf", pdf.Length, new MemoryStream(pdf))));
        }
        var full = await FootprintAsync(id);
        var fourth = await Assert.ThrowsAsync<DomainException>(() => WithAsync<ProposalAttachments, bool>(a => a.UploadAsync(id, pi, "part3.pdf", pdf.Length, new MemoryStream(pdf))));
        Assert.Contains("at most 3 attachments", fourth.Message, StringComparison.Ordinal);
        Assert.Equal(full, await FootprintAsync(id));

        var version = (await WithAsync<ProposalEditing, uint?>(async e => await e.SaveDraftAsync(id, pi, await VersionAsync(id), Complete(call.ClusterId))))!.Value;
        Assert.True(await WithAsync<ProposalEditing, bool>(e => e.SubmitAsync(id, pi, version)));
        await using var db = factory.NewDbContext();
        var attachmentId = await db.ProposalAttachments.Where(a => a.ProposalId == id).Select(a => a.Id).FirstAsync();
        var submitted = await FootprintAsync(id);
        await Assert.ThrowsAsync<DomainException>(() => WithAsync<ProposalAttachments, bool>(a => a.RemoveAsync(id, pi, attachmentId)));
        await Assert.ThrowsAsync<DomainException>(() => WithAsync<ProposalAttachments, bool>(a => a.UploadAsync(id, pi, "late.pdf", pdf.Length, new MemoryStream(pdf))));
        Assert.Equal(submitted, await FootprintAsync(id));
    }

    [Fact]
    public async Task Admins_see_every_submitted_proposal_but_no_draft_of_a_team_they_are_not_on()
    {
        var (draft, _, _) = await DraftAsync("module-scope-draft");
        var (submitted, pi, call) = await DraftAsync("module-scope-submitted");
        var version = (await WithAsync<ProposalEditing, uint?>(async e => await e.SaveDraftAsync(submitted, pi, await VersionAsync(submitted), Complete(call.ClusterId))))!.Value;
        await WithAsync<ProposalEditing, bool>(e => e.SubmitAsync(submitted, pi, version));
        var admin = await factory.CreateUserAsync("admin@module-scope.example.org", [Roles.Admin, Roles.Researcher]);
        var ownDraft = await WithAsync<ProposalEditing, Guid?>(e => e.StartDraftAsync("module-scope-draft", admin.Id, "The admin's own research"));

        await using var db = factory.NewDbContext();
        var ids = new[] { draft, submitted, ownDraft!.Value };
        Assert.Equal(new[] { submitted, ownDraft.Value }.Order(),
            (await db.Proposals.VisibleTo(new Viewer(admin.Id, IsAdmin: true)).Where(p => ids.Contains(p.Id)).Select(p => p.Id).ToListAsync()).Order());
        Assert.Equal([ownDraft.Value], await db.Proposals.VisibleTo(Viewer.Applicant(admin.Id)).Where(p => ids.Contains(p.Id)).Select(p => p.Id).ToListAsync());
        Assert.Equal([submitted], await db.Proposals.VisibleTo(Viewer.Applicant(pi)).Where(p => ids.Contains(p.Id)).Select(p => p.Id).ToListAsync());

        // The admin pages use the same scope: a draft and its files are not there, a submitted proposal is.
        var pdf = TestCalls.Pdf();
        var draftPi = await db.Proposals.Where(p => p.Id == draft).Select(p => p.PiUserId).SingleAsync();
        await WithAsync<ProposalAttachments, bool>(a => a.UploadAsync(draft, draftPi, "draft.pdf", pdf.Length, new MemoryStream(pdf)));
        var draftFile = await db.ProposalAttachments.Where(a => a.ProposalId == draft).Select(a => a.Id).SingleAsync();
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        foreach (var url in new[] { $"/Admin/Proposals/Details/{draft}", $"/Admin/Proposals/Attachment/{draft}/{draftFile}" })
        {
            using var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)response.StatusCode}");
        }
        Assert.Contains("Open speech models", await client.GetPageAsync($"/Admin/Proposals/Details/{submitted}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_proposal_view_reads_everything_in_one_command_and_only_the_calls_clusters()
    {
        var (id, pi, call) = await DraftAsync("module-view");
        var co = await factory.CreateUserAsync("co@module-view.example.edu");
        await JoinAsync(id, pi, co);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await WithAsync<ProposalTeam, TeamInvitation?>(t => t.InviteAsync(id, pi, "not-yet@module-view.example.edu"));
        await WithAsync<ProposalEditing, uint?>(async e => await e.SaveDraftAsync(id, pi, await VersionAsync(id), Complete(call.ClusterId)));

        var counter = new SqlCommandCounter();
        var options = new DbContextOptionsBuilder<PortalDbContext>();
        PortalDatabase.Configure(options, factory.ConnectionString);
        await using var db = new PortalDbContext(options.AddInterceptors(counter).Options);
        var view = await ProposalView.LoadAsync(db, db.Proposals.VisibleTo(Viewer.Applicant(pi)), id, CancellationToken.None);
        var commands = counter.TextsOf(db);

        Assert.NotNull(view);
        Assert.Equal([MemberRole.PrincipalInvestigator, MemberRole.CoInvestigator, MemberRole.CoInvestigator], view.Team.Select(m => m.Role));
        Assert.Equal(["pi", "co", "not-yet@module-view.example.edu"], view.Team.Select(m => m.Name));
        Assert.Equal([false, false, true], view.Team.Select(m => m.Pending));
        Assert.Equal("Cluster module-view", Assert.Single(view.Requests).Cluster);
        // One statement: proposal, requests, team with names, the call with its rubric and its clusters' names, timeline, files.
        var command = Assert.Single(commands);
        // Cluster names come joined to the call's offer, never from a read of the whole clusters table.
        Assert.Contains("FROM call_clusters o JOIN clusters k ON k.id = o.cluster_id", command, StringComparison.Ordinal);
        // Members' names by a join per member, never a window over every user.
        Assert.DoesNotContain(commands, t => t.Contains("ROW_NUMBER()", StringComparison.Ordinal));
    }
}
