using System.Reflection;
using Meta.ComputeAccess.Demo;
using NetArchTest.Rules;

namespace Meta.ComputeAccess.Core.Tests.Architecture;

/// <summary>
/// Which way the Core modules may depend on each other (docs/architecture.md, "Module direction"), read from the
/// compiled IL, so a `using`, a fully qualified name or a type used only inside a method body all count. A rule
/// broken by a change fails here with the types that break it.
/// </summary>
public sealed class ModuleDependencyTests
{
    private static readonly Assembly Core = typeof(Data.PortalDbContext).Assembly;

    /// <summary>The modules that hold the program's business; the shared ones (Data, Audit, Identity, …) may not depend on them.</summary>
    private static readonly string[] Business = ["Calls", "Proposals", "Review", "Allocations", "Usage", "Clusters", "Compliance", "Safety", "Terms", "Reports", "Privacy"];

    /// <summary>Module → the modules it must never depend on, and why.</summary>
    public static TheoryData<string, string[], string> Directions => new()
    {
        // Program reports read every business module; none of them reads the reports.
        // Usage charges allocations (the ingest and unmatched-usage assignment write their ledger); never the other way.
        { "Allocations", ["Usage", "Compliance", "Safety", "Terms", "Reports", "Privacy"], "usage charges allocations: Usage → Allocations, never back" },
        { "Usage", ["Compliance", "Safety", "Terms", "Reports", "Privacy"], "usage knows nothing of screening, the safety track or terms; reports read usage, never the other way" },
        // An accepted award reaches the allocation module through IAwardAcceptanceHandler, which Allocations implements.
        { "Review", ["Allocations", "Usage", "Compliance", "Safety", "Terms", "Reports", "Privacy"], "review hands awards over through IAwardAcceptanceHandler, asks compliance and the safety track through IAwardGate, and reads an award's conditions through IAwardConditions" },
        // Proposals → Review only through the query-only navigations Proposal.Reviews and .Conflicts (Review/Proposal.Review.cs), which the
        // review scopes filter on; the rule below keeps it to that one type.
        { "Proposals", ["Allocations", "Usage", "Compliance", "Safety", "Terms", "Reports", "Privacy"], "proposals come before allocation, and are screened through ISubmissionScreening" },
        // A call offers clusters, and proposals request hours on them: Calls and Proposals → Clusters is allowed.
        { "Calls", ["Proposals", "Review", "Allocations", "Usage", "Compliance", "Safety", "Terms", "Reports", "Privacy"], "a call knows nothing of what is proposed in it" },
        { "Clusters", ["Calls", "Proposals", "Review", "Allocations", "Usage", "Compliance", "Safety", "Terms", "Reports", "Privacy"], "clusters and their tokens are referenced, never referencing" },
        // Screening, the safety track and terms are three separate concerns, reached by the others through interfaces.
        { "Compliance", ["Safety", "Terms", "Reports", "Privacy"], "screening knows nothing of the safety track or terms" },
        { "Safety", ["Compliance", "Terms", "Reports", "Privacy"], "the safety track knows nothing of screening or terms" },
        { "Terms", ["Compliance", "Safety", "Reports", "Privacy"], "terms know nothing of screening or the safety track" },
        // Data rights read and erase across every module (like screening); no business module names them.
        { "Reports", ["Privacy"], "program reports know nothing of closing accounts" },
        { "Notifications", Business, "notifications serve every module and depend on none" },
        { "Audit", Business, "the audit log serves every module and depends on none" },
        { "Identity", Business, "accounts serve every module and depend on none" },
        { "Content", Business, "sanitized Markdown serves every module and depends on none" },
        { "Jobs", Business, "housekeeping jobs serve every module and depend on none" },
    };

    [Theory]
    [MemberData(nameof(Directions))]
    public void A_module_never_depends_on_the_modules_after_it(string module, string[] never, string why)
    {
        var result = Types.InAssembly(Core).That().ResideInNamespace($"Meta.ComputeAccess.{module}")
            .ShouldNot().HaveDependencyOnAny([.. never.Select(m => $"Meta.ComputeAccess.{m}")])
            .GetResult();

        Assert.True(result.IsSuccessful, $"{module} must not depend on {string.Join(", ", never)} ({why}); it does in: {Failing(result)}");
    }

    [Fact]
    public void Proposals_know_review_only_through_the_proposals_review_navigation()
    {
        var result = Types.InAssembly(Core).That().ResideInNamespace("Meta.ComputeAccess.Proposals")
            .And().DoNotHaveName("Proposal")
            .ShouldNot().HaveDependencyOn("Meta.ComputeAccess.Review")
            .GetResult();

        Assert.True(result.IsSuccessful, $"Only Proposal (its review navigations) may name the review module: {Failing(result)}");
    }

    [Fact]
    public void The_rules_see_dependencies_that_exist()
    {
        // If the checker read nothing, every rule above would pass: the allowed directions must be found.
        Assert.False(Types.InAssembly(Core).That().ResideInNamespace("Meta.ComputeAccess.Usage")
            .ShouldNot().HaveDependencyOn("Meta.ComputeAccess.Allocations").GetResult().IsSuccessful);
        Assert.False(Types.InAssembly(Core).That().ResideInNamespace("Meta.ComputeAccess.Allocations")
            .ShouldNot().HaveDependencyOn("Meta.ComputeAccess.Review").GetResult().IsSuccessful);
    }

    [Fact]
    public void Only_the_demo_seed_steps_and_module_registrations_depend_on_the_demo()
    {
        var result = Types.InAssembly(Core).That().DoNotResideInNamespace("Meta.ComputeAccess.Demo")
            .And().DoNotImplementInterface(typeof(IDemoSeedStep))
            .And().DoNotHaveNameEndingWith("Module")
            .ShouldNot().HaveDependencyOn("Meta.ComputeAccess.Demo")
            .GetResult();

        Assert.True(result.IsSuccessful, $"Only IDemoSeedStep implementations and *Module registrations may use the demo: {Failing(result)}");
    }

    [Fact]
    public void Core_has_no_dependency_on_the_web_host_or_asp_net_core_hosting()
    {
        // Identity's EF stores and Data Protection's key store are allowed (Microsoft.AspNetCore.Identity/DataProtection).
        var result = Types.InAssembly(Core).ShouldNot().HaveDependencyOnAny(
                "Meta.ComputeAccess.Web",
                "Microsoft.AspNetCore.Builder",
                "Microsoft.AspNetCore.Hosting",
                "Microsoft.AspNetCore.Http",
                "Microsoft.AspNetCore.Mvc",
                "Microsoft.AspNetCore.Razor",
                "Microsoft.AspNetCore.Routing",
                "Microsoft.AspNetCore.Server",
                "Microsoft.AspNetCore.Authentication",
                "Microsoft.AspNetCore.Authorization")
            .GetResult();

        Assert.True(result.IsSuccessful, $"Core must not use the web host or ASP.NET Core hosting/MVC: {Failing(result)}");
    }

    private static string Failing(TestResult result) => string.Join(", ", result.FailingTypeNames ?? []);
}
