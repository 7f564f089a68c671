namespace Meta.ComputeAccess.Proposals;

/// <summary>The research fields a proposal (and a researcher's profile) can name; one list, used for filters and matching.</summary>
public static class ResearchFields
{
    public static readonly IReadOnlyList<string> All =
    [
        "Natural language processing",
        "Computer vision",
        "Speech and audio",
        "Reinforcement learning",
        "Robotics and embodied AI",
        "Multimodal models",
        "AI safety and alignment",
        "Machine learning theory",
        "Efficient ML and systems",
        "Generative models",
        "AI for science",
        "Health and biomedicine",
        "Climate and earth sciences",
        "Social sciences and humanities",
        "Other",
    ];

    public static bool IsKnown(string? field) => field is not null && All.Contains(field, StringComparer.Ordinal);
}
