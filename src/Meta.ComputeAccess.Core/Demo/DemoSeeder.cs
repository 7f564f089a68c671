using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Demo;

/// <summary>A demo account as printed by the start script.</summary>
public sealed record DemoAccount(string Email, string Role, string FullName);

/// <summary>
/// Seeds a small demo program (clusters, people, an open call) into an empty database. Development only:
/// the passwords are public. Runs once: a database that already has the demo admin is left alone.
/// </summary>
public sealed class DemoSeeder(PortalDbContext db, UserManager<PortalUser> users, TimeProvider clock, IEnumerable<IDemoSeedStep> steps)
{
    /// <summary>The password of every demo account. Public on purpose; never use the seed in production.</summary>
    public const string Password = "ComputeDemo!2026";

    public static readonly IReadOnlyList<(DemoAccount Account, string Institution, string Country)> People =
    [
        (new("admin@example.org", Roles.Admin, "Priya Raman"), "Meta Compute Access Program", "US"),
        (new("rosa.martinez@northfield.example.edu", Roles.Reviewer, "Rosa Martínez"), "Northfield University", "ES"),
        (new("kenji.watanabe@tokai.example.ac.jp", Roles.Reviewer, "Kenji Watanabe"), "Tokai Institute of Science", "JP"),
        (new("amara.okafor@lakeside.example.edu", Roles.Researcher, "Amara Okafor"), "Lakeside Institute of Technology", "NG"),
        (new("lukas.schmidt@hafen.example.de", Roles.Researcher, "Lukas Schmidt"), "Hafen University", "DE"),
        (new("ines.duarte@lakeside.example.edu", Roles.Reviewer, "Inês Duarte"), "Lakeside Institute of Technology", "PT"),
        (new("mei.chen@harbour.example.edu", Roles.Researcher, "Mei Chen"), "Harbour University", "SG"),
        (new("sofia.lindqvist@example.org", Roles.Compliance, "Sofia Lindqvist"), "Meta Compute Access Program", "SE"),
        (new("david.osei@example.org", Roles.Safety, "David Osei"), "Meta Compute Access Program", "GH"),
    ];

    public static IReadOnlyList<DemoAccount> Accounts => [.. People.Select(p => p.Account)];

    /// <summary>Seeds the demo data; returns false when it was already there.</summary>
    public async Task<bool> SeedAsync(CancellationToken cancellationToken = default)
    {
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == People[0].Account.Email.ToUpperInvariant(), cancellationToken))
        {
            return false;
        }
        var now = clock.GetUtcNow();
        var strategy = db.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(async () =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            foreach (var (account, institution, country) in People)
            {
                var user = new PortalUser
                {
                    UserName = account.Email,
                    Email = account.Email,
                    FullName = account.FullName,
                    Institution = institution,
                    Country = country,
                    CreatedAt = now,
                };
                user.MarkEmailConfirmed();
                Check(await users.CreateAsync(user, Password));
                Check(await users.AddToRoleAsync(user, account.Role));
                if (account.Role != Roles.Researcher)
                {
                    // Staff can apply for compute too; every account is a researcher.
                    Check(await users.AddToRoleAsync(user, Roles.Researcher));
                }
            }
            var grandTeton = Cluster.Create("Grand Teton", "grand-teton", "H100 80GB", 64, 8, "grandteton", now);
            var mtia = Cluster.Create("MTIA", "mtia", "MTIA v2", 32, 8, "mtia", now);
            db.Clusters.AddRange(grandTeton, mtia);
            // Rates, in force for every job the demo clusters report: an H100-hour is one accelerator-hour, and so is a
            // MIG slice's share of one (the "mig" partition's 1g.10gb and 3g.40gb slices); preemptible jobs pay half;
            // an MTIA-hour is worth half an H100-hour.
            db.ChargePolicies.Add(ChargePolicy.Create(grandTeton.Id, 1, DateTimeOffset.UnixEpoch, "gres/gpu=1\ngres/gpu:h100=1\ngres/gpu:1g.10gb=1/7\ngres/gpu:3g.40gb=3/7",
                "preempt=0.5", "Demo: H100 at 1, MIG slices by sevenths, preemptible jobs at half", null, now));
            db.ChargePolicies.Add(ChargePolicy.Create(mtia.Id, 1, DateTimeOffset.UnixEpoch, "gres/gpu=1/2", "", "Demo: an MTIA-hour is half an H100-hour", null, now));
            await db.SaveChangesAsync(cancellationToken);
            foreach (var step in steps.OrderBy(s => s.Order))
            {
                await step.SeedAsync(cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
        });
        return true;
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("Demo seed failed: " + string.Join("; ", result.Errors.Select(e => e.Description)));
        }
    }
}

/// <summary>A module's part of the demo data (calls, proposals, reviews, allocations), run in the seed's transaction, in order.</summary>
public interface IDemoSeedStep
{
    int Order { get; }

    Task SeedAsync(CancellationToken cancellationToken);
}
