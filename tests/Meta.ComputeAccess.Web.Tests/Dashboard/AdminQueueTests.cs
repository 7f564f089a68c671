using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Dashboard;

/// <summary>Each of the admin's queues counts exactly the state that waits for it, and links to the page that works it off.</summary>
public sealed class AdminQueueTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Every_admin_queue_counts_what_waits_and_nothing_else()
    {
        var admin = await factory.CreateUserAsync("admin@queues.example.org", [Roles.Admin, Roles.Researcher], "Program");
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var empty = await client.GetPageAsync("/");
        Assert.Contains("Nothing waits for you.", empty, StringComparison.Ordinal);

        var now = factory.Clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var pi = await factory.CreateUserAsync("pi@queues.example.edu");
        var rev1 = await factory.CreateUserAsync("rev1@review.example.org", [Roles.Reviewer, Roles.Researcher]);
        var rev2 = await factory.CreateUserAsync("rev2@review.example.org", [Roles.Reviewer, Roles.Researcher]);
        var (call, cluster) = DashboardWorld.NewCall("queues-call", now);
        var (quiet, quietCluster) = DashboardWorld.NewCall("quiet-call", now);
        AllocationPeriod period;
        Meta.ComputeAccess.Clusters.Cluster full, roomy;
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.AddRange(cluster, quietCluster);
            db.Calls.AddRange(call, quiet);
            var w = new DashboardWorld(db, call, cluster.Id, pi.Id, admin.Id, now);
            var s1 = w.Submitted("To screen 1");
            var s2 = w.Submitted("To screen 2");
            w.Screening("Being screened");
            var r1 = w.InReview("No reviewer yet");
            w.InReview("One of two reviewers", rev1.Id);
            w.InReview("Both reviewers", rev1.Id, rev2.Id);
            var complete = w.InReview("Reviews complete");
            complete.CompleteReviews(admin.Id, now);
            w.Decided("Decided, not released", ProposalDecision.Declined, released: false);
            var released = w.Decided("Decided and released", ProposalDecision.Waitlisted, released: true);
            var withdrawn = w.Submitted("Withdrawn");
            withdrawn.Withdraw(pi.Id, now, "Changed plans.");
            w.Draft("A draft nobody else sees");
            // Conflicts: two open on undecided proposals count; a confirmed one and one on a released decision do not.
            w.Conflict(s1, rev1.Id);
            w.Conflict(r1, rev2.Id);
            w.Conflict(s2, rev2.Id, confirmed: true);
            w.Conflict(released, rev1.Id);
            // The quiet call has a draft only: nothing waits there, so it gets no row.
            new DashboardWorld(db, quiet, quietCluster.Id, pi.Id, admin.Id, now).Draft("Quiet draft");

            // Two messages the mail server refused, one still pending.
            foreach (var to in new[] { "gone@nowhere.example", "typo@exmaple.org", "fine@example.org" })
            {
                var message = OutboxMessage.Create(NotificationKinds.DecisionReleased, null, to, "Decision", "text", "<p>text</p>", now);
                if (to != "fine@example.org")
                {
                    message.MarkRefused("550 no such user", now);
                }
                db.OutboxMessages.Add(message);
            }

            // Capacity: one cluster 95 % committed this period (a warning), another at 50 % (none).
            period = AllocationPeriod.Create("Queues period", today.AddDays(-10), today.AddDays(170), now);
            full = Meta.ComputeAccess.Clusters.Cluster.Create("Full cluster", "full", "H100 80GB", 2, 8, "full", now);
            roomy = Meta.ComputeAccess.Clusters.Cluster.Create("Roomy cluster", "roomy", "H100 80GB", 2, 8, "roomy", now);
            db.Clusters.AddRange(full, roomy);
            db.AllocationPeriods.Add(period);
            db.ClusterCapacities.Add(ClusterCapacity.Create(full.Id, period.Id, 1_000m, 1m, 0m, now));
            db.ClusterCapacities.Add(ClusterCapacity.Create(roomy.Id, period.Id, 10_000m, 1m, 0m, now));
            await db.SaveChangesAsync();
        }

        await factory.WithScopeAsync(async sp =>
        {
            var allocations = sp.GetRequiredService<AllocationService>();
            await allocations.CreateAsync(new NewAllocation(period.Id, pi.Id, "Nearly all of it", today, today.AddDays(90),
                new Dictionary<Guid, decimal> { [full.Id] = 950m }, SlurmAccount: "full-acct"), admin.Id);
            var a = await allocations.CreateAsync(new NewAllocation(period.Id, pi.Id, "Half of it", today, today.AddDays(90),
                new Dictionary<Guid, decimal> { [roomy.Id] = 3_000m }, SlurmAccount: "roomy-a"), admin.Id);
            var b = await allocations.CreateAsync(new NewAllocation(period.Id, pi.Id, "The other half", today, today.AddDays(90),
                new Dictionary<Guid, decimal> { [roomy.Id] = 2_000m }, SlurmAccount: "roomy-b"), admin.Id);
            // Requests for more hours: one declined already, then two pending.
            var declined = await allocations.RequestSupplementAsync(b.Id, null, null, today.AddDays(120), "A longer project than we planned.", pi.Id);
            await allocations.DeclineSupplementAsync(declined.Id, "Not this period.", admin.Id);
            await allocations.RequestSupplementAsync(a.Id, roomy.Id, 500m, null, "More ablations than planned.", pi.Id);
            await allocations.RequestSupplementAsync(b.Id, roomy.Id, 200m, null, "A rerun after a node failure.", pi.Id);

            // Unmatched usage: three jobs of unknown accounts, of which the admins dismissed one.
            var sacct = "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n"
                + "880001|typo-a|eve|2026-01-01T00:00:00|2026-01-01T01:00:00|3600|gres/gpu=8|COMPLETED\n"
                + "880002|typo-a|eve|2026-01-01T02:00:00|2026-01-01T03:00:00|3600|gres/gpu=8|COMPLETED\n"
                + "880003|typo-b|eve|2026-01-01T04:00:00|2026-01-01T05:00:00|3600|gres/gpu=4|COMPLETED\n";
            await sp.GetRequiredService<UsageIngest>().IngestAsync(roomy.Id, SacctParser.Parse(new StringReader(sacct), UsageBodyFormat.SacctParsable2));
            await sp.GetRequiredService<UnmatchedUsageResolution>().DismissAsync(UnmatchedSelection.AllOf(roomy.Id, "typo-b"), "A test account.", admin.Id);
        });

        var html = await client.GetPageAsync("/");
        Assert.DoesNotContain("Nothing waits for you.", html, StringComparison.Ordinal);
        Assert.Equal("3", DashboardWorld.CallQueue(html, "queues-call", "screen"));
        Assert.Equal("2", DashboardWorld.CallQueue(html, "queues-call", "conflicts"));
        Assert.Equal("2", DashboardWorld.CallQueue(html, "queues-call", "assign"));
        Assert.Equal("1", DashboardWorld.CallQueue(html, "queues-call", "rank"));
        Assert.Equal("1", DashboardWorld.CallQueue(html, "queues-call", "release"));
        Assert.DoesNotContain("data-call=\"quiet-call\"", html, StringComparison.Ordinal);
        // Each count links to the page that works it off.
        foreach (var page in new[] { "Screening", "Reviewers", "Assignment", "Ranking" })
        {
            Assert.Contains($"href=\"/Admin/Calls/queues-call/{page}\"", html, StringComparison.Ordinal);
        }

        Assert.StartsWith("2 requests for more hours or time", DashboardWorld.ListQueue(html, "supplements"), StringComparison.Ordinal);
        Assert.StartsWith("2 unmatched jobs (16 GPU-h)", DashboardWorld.ListQueue(html, "unmatched"), StringComparison.Ordinal);
        Assert.StartsWith("2 messages could not be sent", DashboardWorld.ListQueue(html, "mail"), StringComparison.Ordinal);
        Assert.Contains("href=\"/Admin/Outbox?status=Failed\"", html, StringComparison.Ordinal);
        var capacity = DashboardWorld.ListQueue(html, "capacity");
        Assert.StartsWith("Full cluster in Queues period is 95 % committed (950 of 1,000 accelerator-hours)", capacity, StringComparison.Ordinal);
        Assert.DoesNotContain("Roomy cluster", html, StringComparison.Ordinal);

        // Once the one pending request left is decided... the queue names it, and the link goes to its allocation.
        await factory.WithScopeAsync(async sp =>
        {
            await using var db = factory.NewDbContext();
            var pending = db.SupplementRequests.Where(s => s.Status == SupplementStatus.Pending).OrderBy(s => s.RequestedAt).Select(s => s.Id).First();
            await sp.GetRequiredService<AllocationService>().DeclineSupplementAsync(pending, "Not now.", admin.Id);
        });
        html = await client.GetPageAsync("/");
        var only = DashboardWorld.ListQueue(html, "supplements");
        Assert.StartsWith("1 request for more hours or time: decide it", only, StringComparison.Ordinal);
        Assert.Contains("href=\"/Admin/Allocations/Details?id=", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Researchers_see_no_admin_queues()
    {
        await factory.CreateUserAsync("plain@queues.example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync("plain@queues.example.edu");
        var html = await client.GetPageAsync("/");
        Assert.DoesNotContain("Waiting for the program", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-queue", html, StringComparison.Ordinal);
        Assert.Contains("Your proposals", html, StringComparison.Ordinal);
    }
}
