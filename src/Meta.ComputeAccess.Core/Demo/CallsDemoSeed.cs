using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Demo;

/// <summary>Demo calls (one fixed-deadline, one rolling) and a handful of realistic proposals in several states.</summary>
public sealed class CallsDemoSeed(PortalDbContext db, TimeProvider clock) : IDemoSeedStep
{
    public int Order => 10;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var clusters = await db.Clusters.ToDictionaryAsync(c => c.Slug, c => c.Id, cancellationToken);
        var people = await db.Users.ToDictionaryAsync(u => u.Email!, u => u.Id, cancellationToken);
        var teton = clusters["grand-teton"];
        var mtia = clusters["mtia"];

        var open = Call.Create("2027 Open Call for AI Research Compute", "open-call-2027", now.AddDays(-10));
        open.SetTexts(open.Title,
            """
            The program offers **accelerator time on Grand Teton (H100) and MTIA** to researchers at universities and
            non-profit institutes for open AI research.

            Proposals are peer-reviewed against the rubric below. Awards cover twelve months. We especially welcome work
            that releases **open weights, datasets or code**.

            - Requests between 5,000 and 200,000 GPU-hours per cluster
            - Up to three PDF attachments (a project description, CVs)
            """,
            "Principal investigators hold a research position at a university or non-profit research institute. Commercial work is not eligible.");
        open.SetSchedule(CallKind.Fixed, now.AddDays(-10), now.AddDays(21), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(2)), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(14)), "UTC");
        open.SetReview(2, ReviewMode.SingleBlind);
        open.OfferCluster(teton, 1_500_000m, 5_000m, 200_000m);
        open.OfferCluster(mtia, 600_000m, 5_000m, 100_000m);
        open.AddCriterion("Scientific merit", "Is the question important and the approach sound? Would the results matter beyond this project?", 40m);
        open.AddCriterion("Feasibility and readiness", "Is the team ready to use the hours from day one? Is the compute estimate credible?", 30m);
        open.AddCriterion("Openness of outputs", "Will weights, data and code be released under open licences?", 20m);
        open.AddCriterion("Team", "Does the team have the experience to carry the work out?", 10m);
        open.Open(now.AddDays(-10));
        db.Calls.Add(open);

        var rolling = Call.Create("Startup Allocations (rolling)", "startup-allocations", now.AddDays(-60));
        rolling.SetTexts(rolling.Title,
            "Small allocations to **benchmark and port** code before a full proposal. Reviewed as proposals arrive, usually within two weeks.",
            "Any researcher with an eligible affiliation.");
        rolling.SetSchedule(CallKind.Rolling, now.AddDays(-60), null, DateOnly.FromDateTime(now.UtcDateTime), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(6)), "UTC");
        rolling.SetReview(1, ReviewMode.SingleBlind);
        rolling.OfferCluster(teton, 100_000m, 0m, 5_000m);
        rolling.AddCriterion("Readiness", "Is the code ready to run at the requested scale?", 1m);
        rolling.Open(now.AddDays(-60));
        db.Calls.Add(rolling);

        var amara = people["amara.okafor@lakeside.example.edu"];
        var lukas = people["lukas.schmidt@hafen.example.de"];

        var speech = Proposal.StartDraft(open, amara, "Speech recognition for low-resource West African languages", now.AddDays(-9));
        speech.UpdateDraft(new ProposalContent(
            speech.Title,
            "We will train and release open **speech recognition models for Yoruba, Igbo, Hausa and Twi**, languages spoken by more than 100 million people but nearly absent from public benchmarks. We combine 2,000 hours of newly collected, consented recordings with self-supervised pre-training on 40,000 hours of unlabelled broadcast audio.",
            ["speech recognition", "low-resource languages", "self-supervised learning"],
            "Speech and audio",
            "Pre-training a 1B-parameter conformer on 40,000 hours of audio takes about 64 H100s for 25 days (38,400 GPU-hours); fine-tuning and ablations for four languages add 12,000 GPU-hours. Inference benchmarks on MTIA use 6,000 hours.",
            true, "Recordings are from consenting adult speakers; transcripts contain no names. Data stays on program clusters; released audio is de-identified.",
            false, "", "Model code: Apache-2.0; broadcast audio licensed for research; our dataset will be CC BY 4.0.",
            PlannedOutputs.Papers | PlannedOutputs.OpenWeights | PlannedOutputs.Datasets | PlannedOutputs.Code, "Models on a public hub; dataset with a datasheet.",
            [new RequestedHours(teton, 50_400m, 38_400m), new RequestedHours(mtia, 6_000m, 0m)], false, ""), open, now.AddDays(-8));
        var invitation = speech.InviteCoInvestigator("lukas.schmidt@hafen.example.de", lukas, amara, now.AddDays(-8));
        speech.AcceptInvitation(invitation.Id, lukas, "LUKAS.SCHMIDT@HAFEN.EXAMPLE.DE", now.AddDays(-7));
        speech.Submit(open, amara, now.AddDays(-2));
        db.Proposals.Add(speech);

        var draft = Proposal.StartDraft(open, amara, "Parameter-efficient fine-tuning for clinical notes", now.AddDays(-1));
        draft.UpdateDraft(new ProposalContent(
            draft.Title, "Draft: comparing LoRA variants on de-identified clinical notes.", ["fine-tuning", "clinical nlp"], "Health and biomedicine",
            "", null, "", null, "", "", PlannedOutputs.Papers, "", [new RequestedHours(teton, 20_000m, 10_000m)], null, ""), open, now.AddDays(-1));
        db.Proposals.Add(draft);

        var protein = Proposal.StartDraft(open, lukas, "Diffusion models for protein–ligand binding", now.AddDays(-7));
        protein.UpdateDraft(new ProposalContent(
            protein.Title,
            "We train an **SE(3)-equivariant diffusion model** that generates ligand poses conditioned on protein pockets, and release it with a benchmark of 5,000 experimentally resolved complexes that avoids the train/test leakage of current benchmarks.",
            ["diffusion models", "drug discovery", "equivariant networks"],
            "AI for science",
            "Training runs at 32 H100s for three weeks per model size (three sizes: 48,000 GPU-hours) plus 8,000 GPU-hours of docking baselines.",
            false, "", false, "", "PDBbind licence for research; our code MIT; weights CC BY.",
            PlannedOutputs.Papers | PlannedOutputs.OpenWeights | PlannedOutputs.Code, "",
            [new RequestedHours(teton, 56_000m, 40_000m)], false, ""), open, now.AddDays(-6));
        protein.Submit(open, lukas, now.AddDays(-5));
        db.Proposals.Add(protein);

        var withdrawn = Proposal.StartDraft(rolling, lukas, "Porting a JAX climate emulator to H100", now.AddDays(-30));
        withdrawn.UpdateDraft(new ProposalContent(
            withdrawn.Title,
            "Benchmarking our JAX-based climate emulator on H100 before a full proposal; we measure scaling from 8 to 64 GPUs and compare against our current A100 numbers to size the full request.",
            ["climate", "jax", "scaling"], "Climate and earth sciences",
            "Scaling runs from 8 to 64 GPUs, 20 runs of 2 hours each at every size: about 2,500 GPU-hours, rounded up for failed runs.",
            false, "", false, "", "ERA5 (Copernicus licence); code Apache-2.0.", PlannedOutputs.Code, "",
            [new RequestedHours(teton, 3_000m, 2_000m)], false, ""), rolling, now.AddDays(-29));
        withdrawn.Submit(rolling, lukas, now.AddDays(-28));
        withdrawn.Withdraw(lukas, now.AddDays(-20), "We received time elsewhere for the benchmark.");
        db.Proposals.Add(withdrawn);
    }
}
