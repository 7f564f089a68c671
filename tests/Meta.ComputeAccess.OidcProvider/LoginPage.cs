using System.Text;
using System.Text.Encodings.Web;

namespace Meta.ComputeAccess.OidcProvider;

/// <summary>The provider's login page: pick a person (no password: this provider is for tests and the local demo).</summary>
public static class LoginPage
{
    public static string Render(string? returnUrl, bool allowTampering)
    {
        var html = HtmlEncoder.Default;
        var page = new StringBuilder();
        page.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Demo identity provider</title>
            <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
            button{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem;font-size:1rem}
            small{color:#555}.warn{background:#fff3cd;padding:.5rem}</style></head><body>
            <h1>Demo identity provider</h1>
            <p class="warn">For tests and the local demo only: anyone can sign in as anyone here.</p>
            """);
        if (string.IsNullOrEmpty(returnUrl))
        {
            page.Append("<p>Start from the portal's “Sign in with …” button.</p></body></html>");
            return page.ToString();
        }
        page.Append("<form method=\"post\" action=\"/login\">")
            .Append("<input type=\"hidden\" name=\"returnUrl\" value=\"").Append(html.Encode(returnUrl)).Append("\">");
        if (allowTampering)
        {
            page.Append("<p><label for=\"tamper\">Identity token</label> <select id=\"tamper\" name=\"tamper\"><option value=\"\">valid</option>");
            foreach (var (value, label) in TokenTampering.Choices)
            {
                page.Append("<option value=\"").Append(value).Append("\">").Append(html.Encode(label)).Append("</option>");
            }
            page.Append("</select></p>");
        }
        page.Append("<h2>Sign in as</h2>");
        foreach (var person in ProviderPeople.All)
        {
            page.Append("<button type=\"submit\" name=\"username\" value=\"").Append(html.Encode(person.Username)).Append("\">")
                .Append(html.Encode(person.Name)).Append("<br><small>")
                .Append(html.Encode(person.Email ?? "no email address")).Append(" · ").Append(html.Encode(person.Description))
                .Append("</small></button>");
        }
        page.Append("<button type=\"submit\" name=\"cancel\" value=\"1\">Cancel: do not sign in</button></form></body></html>");
        return page.ToString();
    }
}
