using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Demo;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Demo data of the allocation module: three half-years with each cluster's capacity, and one allocation running for
/// 30 days (Amara's, Slurm account <see cref="DemoSlurmAccount"/>), which the
/// usage module's demo step charges with a month of jobs.
/// </summary>
public sealed class AllocationDemoSeed(PortalDbContext db, AllocationService allocations, TimeProvider clock) : IDemoSeedStep
{
    /// <summary>The Slurm account of the running demo allocation; later demo steps (usage, reports) find it by this.</summary>
    public const string DemoSlurmAccount = "lowres-speech";

    public int Order => 50;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var clusters = await db.Clusters.OrderBy(c => c.Name).ToListAsync(cancellationToken);
        var rates = await Clusters.ChargePolicies.InForceAsync(db, [.. clusters.Select(c => c.Id)], now, cancellationToken);
        // The running allocation started 30 days ago (so the demo has weeks of usage, UsageDemoSeed): the half-year of
        // that day and the next two, so awards of the demo calls (which start months ahead) find their period too.
        var allocationStart = today.AddDays(-30);
        var halfStart = new DateOnly(allocationStart.Year, allocationStart.Month <= 6 ? 1 : 7, 1);
        AllocationPeriod? period = null;
        for (var i = 0; i < 3; i++)
        {
            var start = halfStart.AddMonths(6 * i);
            var created = AllocationPeriod.Create($"{start.Year} {(start.Month == 1 ? "H1" : "H2")}", start, start.AddMonths(6).AddDays(-1), now);
            db.AllocationPeriods.Add(created);
            period ??= created;
            var days = created.EndDate.DayNumber - created.StartDate.DayNumber + 1;
            foreach (var cluster in clusters)
            {
                // Every accelerator around the clock, 10 % held back for the program; capacity counts accelerator-hours,
                // so an MTIA cluster at half rate offers half as many as it has MTIA-hours.
                var hours = decimal.Round((decimal)cluster.TotalAccelerators * 24 * days * rates[cluster.Id].Native.Rate, 0);
                db.ClusterCapacities.Add(ClusterCapacity.Create(cluster.Id, created.Id, hours, 1.0m, decimal.Round(hours / 10), now));
            }
        }
        await db.SaveChangesAsync(cancellationToken);

        var pi = await db.Users.SingleAsync(u => u.NormalizedEmail == "AMARA.OKAFOR@LAKESIDE.EXAMPLE.EDU", cancellationToken);
        var grandTeton = clusters.Single(c => c.Slug == "grand-teton");
        var mtia = clusters.Single(c => c.Slug == "mtia");
        var current = period!;
        await allocations.CreateAsync(new NewAllocation(current.Id, pi.Id, "Low-resource speech recognition", allocationStart, allocationStart.AddDays(150),
            new Dictionary<Guid, decimal> { [grandTeton.Id] = 50_000m, [mtia.Id] = 10_000m }, SlurmAccount: DemoSlurmAccount), null, cancellationToken);
    }
}
