using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Privacy;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Privacy;

/// <summary>
/// The nightly retention job removes drafts nobody saved for the configured time and the attachments of archived calls
/// past the configured age, and says what it removed (a run record admins read, the audit log); nothing else goes.
/// </summary>
public sealed class RetentionJobTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Retention_removes_stale_drafts_and_old_archived_attachments_and_records_each_run()
    {
        var days = new PrivacyOptions();
        var pi = await portal.CreateUserAsync("retention.pi@example.edu");
        await portal.CreateUserAsync("retention.admin@example.org", [Roles.Admin, Roles.Researcher]);
        var open = await portal.CreateOpenCallAsync("retention-open", TimeSpan.FromDays(5 * 365));
        var archived = await portal.CreateOpenCallAsync("retention-archived");
        Guid stale, touched, submitted, keptSubmitted;
        await using (var db = portal.NewDbContext())
        {
            var now = portal.Clock.GetUtcNow();
            var openCall = await db.Calls.SingleAsync(c => c.Id == open.Id);
            var staleDraft = Proposal.StartDraft(openCall, pi.Id, "Stale draft", now);
            var touchedDraft = Proposal.StartDraft(openCall, pi.Id, "Touched draft", now);
            var kept = SecurityWorld.SubmittedProposal(openCall, pi.Id, "Submitted in an open call", open.ClusterId, now);
            var archivedCall = await db.Calls.SingleAsync(c => c.Id == archived.Id);
            var old = SecurityWorld.SubmittedProposal(archivedCall, pi.Id, "Submitted in an archived call", archived.ClusterId, now);
            db.Proposals.AddRange(staleDraft, touchedDraft, kept, old);
            foreach (var p in new[] { staleDraft, kept, old })
            {
                db.ProposalAttachments.Add(ProposalAttachment.Create(p.Id, "plan.pdf", TestCalls.Pdf(), pi.Id, now));
            }
            archivedCall.Close(now);
            archivedCall.MarkDecided();
            archivedCall.Archive();
            await db.SaveChangesAsync();
            (stale, touched, submitted, keptSubmitted) = (staleDraft.Id, touchedDraft.Id, old.Id, kept.Id);
        }

        // Halfway through the draft retention the second draft is saved again; the first is not.
        portal.Clock.Advance(TimeSpan.FromDays(days.DraftRetentionDays / 2));
        await using (var db = portal.NewDbContext())
        {
            var draft = await db.Proposals.Include(p => p.Members).SingleAsync(p => p.Id == touched);
            draft.UpdateDraft(new ProposalContent("Touched draft", "Still working on it.", [], "", "", null, "", null, "", "", PlannedOutputs.Code, "", [], null, ""),
                await db.Calls.SingleAsync(c => c.Id == open.Id), portal.Clock.GetUtcNow());
            await db.SaveChangesAsync();
        }
        portal.Clock.Advance(TimeSpan.FromDays(days.DraftRetentionDays / 2 + 2));
        var first = await RunAsync();
        Assert.Equal(1, first.DraftsRemoved);
        Assert.Equal(0, first.AttachmentsRemoved);
        Assert.Contains(stale.ToString(), first.Detail, StringComparison.Ordinal);
        await using (var db = portal.NewDbContext())
        {
            Assert.False(await db.Proposals.AnyAsync(p => p.Id == stale));
            Assert.True(await db.Proposals.AnyAsync(p => p.Id == touched));
            Assert.Equal(2, await db.ProposalAttachments.CountAsync());
        }

        // Past the archived call's attachment age: its attachment goes, the open call's submitted proposal keeps its own.
        portal.Clock.Advance(TimeSpan.FromDays(days.ArchivedAttachmentRetentionDays));
        var second = await RunAsync();
        Assert.Equal(1, second.DraftsRemoved);
        Assert.Equal(1, second.AttachmentsRemoved);
        Assert.Equal(TestCalls.Pdf().Length, second.BytesRemoved);
        var again = await RunAsync();
        Assert.Equal((0, 0), (again.DraftsRemoved, again.AttachmentsRemoved));
        await using (var db = portal.NewDbContext())
        {
            Assert.False(await db.ProposalAttachments.AnyAsync(a => a.ProposalId == submitted));
            Assert.True(await db.ProposalAttachments.AnyAsync(a => a.ProposalId == keptSubmitted));
            Assert.True(await db.Proposals.AnyAsync(p => p.Id == submitted));
            Assert.Equal(3, await db.RetentionRuns.CountAsync());
            Assert.Equal(3, await db.AuditEntries.CountAsync(a => a.Action == "retention.removed"));
            // History of submitted proposals is untouched: only the drafts' lines went.
            Assert.True(await db.ProposalHistory.AnyAsync(h => h.ProposalId == submitted));
        }

        using var browser = new PortalClient(portal);
        await browser.SignInAsync("retention.admin@example.org");
        var page = await browser.GetPageAsync("/Admin/Retention");
        Assert.Contains(submitted.ToString(), page, StringComparison.Ordinal);
        Assert.Contains("nothing was due", page, StringComparison.Ordinal);
    }

    private Task<RetentionRun> RunAsync() => portal.WithScopeAsync(sp => sp.GetRequiredService<RetentionJob>().RunAsync());
}
