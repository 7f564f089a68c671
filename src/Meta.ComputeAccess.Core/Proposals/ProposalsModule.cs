using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Proposals;

public static class ProposalsModule
{
    public static IServiceCollection AddProposalsModule(this IServiceCollection services) =>
        services
            .AddScoped<ProposalEditing>()
            .AddScoped<ProposalTeam>()
            .AddScoped<ProposalAttachments>();
}
