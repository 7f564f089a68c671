using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Demo data for reports and the public page: a pilot call whose award Kenji Watanabe accepted with a public listing, its
/// allocation with an accepted progress report and outputs (a paper by DOI, model weights and code by URL), and a
/// progress report due on Amara's running allocation. Everything goes through the module methods the pages call.
/// </summary>
public sealed class AwardsDemoSeed(PortalDbContext db, ReviewDecisions decisions, ProgressReports reports, TimeProvider clock) : IDemoSeedStep
{
    public const string PilotSlug = "pilot-2026";

    public const string PublicAwardTitle = "Open weather foundation model for the Maritime Continent";

    public int Order => 70;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var people = await db.Users.ToDictionaryAsync(u => u.Email!, u => u.Id, cancellationToken);
        var admin = people["admin@example.org"];
        // Kenji has no cluster login in the demo (the Slurm test gives logins to Amara, Lukas and Mei), so his allocation changes none of theirs.
        var kenji = people["kenji.watanabe@tokai.example.ac.jp"];
        var teton = await db.Clusters.Where(c => c.Slug == "grand-teton").Select(c => c.Id).SingleAsync(cancellationToken);

        // A pilot call that closed months ago; its awards started 20 days ago (inside the demo's first period).
        var opened = now.AddDays(-200);
        var call = Call.Create("Pilot Call 2026", PilotSlug, opened);
        call.SetTexts(call.Title, "The program's **pilot**: compute for open models in the sciences.", "Researchers at universities and non-profit institutes.");
        call.SetSchedule(CallKind.Fixed, opened, now.AddDays(-170), today.AddDays(-20), today.AddDays(160), "UTC");
        call.SetReview(1, ReviewMode.SingleBlind);
        call.OfferCluster(teton, 100_000m, 1_000m, 50_000m);
        call.AddCriterion("Scientific merit", "Is the question important and the approach sound?", 100m);
        call.Open(opened);
        db.Calls.Add(call);

        var submitted = now.AddDays(-175);
        var proposal = Proposal.StartDraft(call, kenji, PublicAwardTitle, submitted.AddDays(-3));
        proposal.UpdateDraft(new ProposalContent(PublicAwardTitle,
            "We train an **open weather foundation model** on 40 years of reanalysis over the Maritime Continent and release weights, code and a forecast benchmark for tropical convection.",
            ["weather", "foundation models", "climate"], "Climate and earth sciences",
            "A 600M-parameter model on 0.25° reanalysis: 64 GPUs for 30 days, plus fine-tuning and evaluation runs.",
            false, "", false, "", "Code Apache-2.0; weights CC BY 4.0.", PlannedOutputs.Papers | PlannedOutputs.OpenWeights | PlannedOutputs.Code, "",
            [new RequestedHours(teton, 30_000m, 20_000m)], false, ""), call, submitted.AddDays(-1));
        proposal.Submit(call, kenji, submitted);
        proposal.StartScreening(admin, submitted.AddDays(2));
        proposal.SendToReview(admin, submitted.AddDays(3), "Eligible and feasible");
        proposal.Decide(ProposalDecision.Awarded, [new AwardedHours(teton, 25_000m)], admin, now.AddDays(-150), "Congratulations: awarded with a slightly smaller budget.");
        proposal.ReleaseDecision(admin, now.AddDays(-150));
        db.Proposals.Add(proposal);
        call.Close(now.AddDays(-170));
        await db.SaveChangesAsync(cancellationToken);

        // Kenji accepts and agrees to the public listing, with the hours used shown; the allocation is made on acceptance.
        await decisions.RespondAsync(proposal.Id, accept: true, kenji, cancellationToken, new PublicListing(
            "An open AI weather model for Indonesia, Malaysia and the Philippines that forecasts tropical storms and heavy rain days ahead, released with its code and a benchmark.",
            ShowUsage: true));
        var allocation = await db.Allocations.AsNoTracking().SingleAsync(a => a.ProposalId == proposal.Id, cancellationToken);

        // An early progress report, submitted and accepted, with its outputs.
        var progress = ProgressReport.Request(allocation.Id, ProgressReportKind.Progress, today.AddDays(-2), now.AddDays(-10));
        db.ProgressReports.Add(progress);
        var amaras = await db.Allocations.AsNoTracking().SingleAsync(a => a.SlurmAccount == AllocationDemoSeed.DemoSlurmAccount, cancellationToken);
        // Amara's running allocation owes a progress report in ten days.
        db.ProgressReports.Add(ProgressReport.Request(amaras.Id, ProgressReportKind.Progress, today.AddDays(10), now));
        await db.SaveChangesAsync(cancellationToken);
        await reports.SubmitAsync(progress.Id, kenji,
            "Pre-training finished on schedule: the 600M model beats the operational baseline on 3-day rainfall forecasts over Borneo and Sulawesi. The weights, training code and the benchmark are public; a paper is accepted.",
            [
                new OutputInput(OutputKind.Paper, "A foundation model for tropical convection forecasting", "https://doi.org/10.5281/zenodo.1234567", "CC BY 4.0"),
                new OutputInput(OutputKind.ModelWeights, "MC-Weather 600M weights", "https://models.example.org/tokai/mc-weather-600m", "CC BY 4.0"),
                new OutputInput(OutputKind.Code, "Training and evaluation code", "https://git.example.org/tokai/mc-weather", "Apache-2.0"),
            ], cancellationToken);
        db.ChangeTracker.Clear();
        await reports.AcceptAsync(allocation.Id, progress.Id, admin, cancellationToken);
        db.ChangeTracker.Clear();
    }
}
